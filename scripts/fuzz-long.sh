#!/usr/bin/env bash
# Long fuzz run, outside CI (docs/reliability.md, "Long run"): every fuzz suite with
# WIREHOOK_FUZZ_RUNS=N (cases per property; test/hardening/fuzz-lib.ts), one suite at a time,
# each under /usr/bin/time -v. Records per suite: cases asked for (the suites' own tally,
# WIREHOOK_FUZZ_TALLY), tests passed/failed, wall time, the peak RSS of the test's node process
# and of the largest process in its tree, and the output in OUT/<suite>.log. Summary: OUT/summary.tsv.
#
#   bash scripts/fuzz-long.sh                  # the default sizes below (~2M cases, ~40-60 min on 2 shared cores)
#   FUZZ_SCALE=0.1 bash scripts/fuzz-long.sh   # a tenth of each size (a quick check of the script)
#   nice -n 10 bash scripts/fuzz-long.sh       # beside other work
#   FUZZ_ONLY='dissectors/' bash scripts/fuzz-long.sh   # only suites whose path holds one of these words
#
# Sizes (cases per property or per loop; per-case cost measured on 2 shared cores) are set so the
# total passes 1M with every suite, not just the cheap decoders, getting a long run.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${FUZZ_OUT:-test/.out/fuzz-long}
SCALE=${FUZZ_SCALE:-1}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
[ -x /usr/bin/time ] || { echo "fuzz-long: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }

# suite file : cases per property
SUITES=(
  "test/hardening/fuzz-wire.test.ts:250000"
  "test/hardening/fuzz-hpack.test.ts:150000"
  "test/hardening/fuzz-reader.test.ts:100000"
  "test/hardening/fuzz-pipeline.test.ts:15000"
  "test/dissectors/fuzz.test.ts:20000"
  "test/dissectors/fuzz-brokers.test.ts:40000"
  "test/dissectors/fuzz-databases.test.ts:40000"
  "test/dissectors/fuzz-web.test.ts:10000"
)

printf 'suite\truns\tcases\tpass\tfail\twall_s\tnode_max_rss_mb\ttree_max_rss_mb\texit\n' > "$OUT/summary.tsv"
total=0; failed=0
for s in "${SUITES[@]}"; do
  file=${s%%:*}
  if [ -n "${FUZZ_ONLY:-}" ]; then
    hit=0; for w in $FUZZ_ONLY; do case "$file" in *"$w"*) hit=1 ;; esac; done
    [ "$hit" = 1 ] || continue
  fi
  n=$(awk -v a="${s##*:}" -v k="$SCALE" 'BEGIN { v = int(a * k); print (v < 1 ? 1 : v) }')
  name=$(basename "$file" .test.ts); dir=$(basename "$(dirname "$file")")
  tag="$dir-$name"
  tally="$OUT/$tag.tally"; : > "$tally"
  echo "fuzz-long: $file, WIREHOOK_FUZZ_RUNS=$n ($(date -u +%H:%M:%S))" >&2
  start=$(date +%s)
  WIREHOOK_FUZZ_RUNS=$n WIREHOOK_FUZZ_TALLY="$tally" \
    /usr/bin/time -v -o "$OUT/$tag.time" \
    node --import tsx --test --test-concurrency=1 --test-timeout=0 "$file" > "$OUT/$tag.log" 2>&1
  rc=$?
  wall=$(( $(date +%s) - start ))
  cases=$(awk '{ s += $1 } END { print s + 0 }' "$tally")
  pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$OUT/$tag.log" | tail -1)
  fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$OUT/$tag.log" | tail -1)
  # The test file's node process, from its own tally line (process.resourceUsage().maxRSS), and
  # time -v's figure: the peak of the largest process in the tree, which may be a tool the test
  # runs (editcap, tshark, tcpdump, a server), not the engine.
  own=$(awk '{ if ($2 > m) m = $2 } END { printf "%d", m / 1024 }' "$tally")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%d", $2 / 1024 }' "$OUT/$tag.time")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tag" "$n" "$cases" "${pass:-?}" "${fail:-?}" "$wall" "${own:-?}" "${rss:-?}" "$rc" >> "$OUT/summary.tsv"
  total=$(( total + cases ))
  [ "$rc" = 0 ] && [ "${fail:-1}" = 0 ] || failed=$(( failed + 1 ))
done
echo "total cases: $total; suites with failures: $failed" >> "$OUT/summary.tsv"
column -t -s $'\t' "$OUT/summary.tsv" >&2 || cat "$OUT/summary.tsv" >&2
[ "$failed" = 0 ]

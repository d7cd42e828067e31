// FlowKeys (capture/stream/key.ts): the direction-independent 4-tuple key, which side is A, and
// the last-key cache, checked against a reference built from the definition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FlowKeys } from '../../capture/stream/key';
import { addrBytes, udpD } from './stream-lib';

/** The key by definition: the lower (address, port) end first, 16-bit words, then the other end. */
function reference(src: string, sp: number, dst: string, dp: number): { key: string; senderIsA: boolean } {
  const s = addrBytes(src);
  const t = addrBytes(dst);
  let cmp = 0;
  for (let i = 0; i < s.length && cmp === 0; i++) cmp = s[i] - t[i];
  const a = cmp < 0 || (cmp === 0 && sp <= dp);
  const words = (b: number[]) => b.flatMap((_, i) => (i % 2 ? [] : [(b[i] << 8) | b[i + 1]]));
  const [fa, fp, la, lp] = a ? [s, sp, t, dp] : [t, dp, s, sp];
  return { key: String.fromCharCode(...words(fa), fp, ...words(la), lp), senderIsA: a };
}

function keyOf(k: FlowKeys, src: string, sp: number, dst: string, dp: number): [string, boolean] {
  const key = k.key(udpD({ src, dst, sp, dp }));
  return [key, k.senderIsA];
}

test('key: IPv4 key is the low end first, in 16-bit words; both directions give the same key', () => {
  const k = new FlowKeys();
  const [ab, aIsA] = keyOf(k, '10.1.2.3', 40000, '192.168.7.9', 80);
  assert.equal(ab, String.fromCharCode(0x0a01, 0x0203, 40000, 0xc0a8, 0x0709, 80));
  assert.equal(aIsA, true);
  const [ba, bIsA] = keyOf(new FlowKeys(), '192.168.7.9', 80, '10.1.2.3', 40000);
  assert.equal(ba, ab);
  assert.equal(bIsA, false);
});

test('key: addresses compare unsigned (128.0.0.0 and above sort after 10.x)', () => {
  const [key, isA] = keyOf(new FlowKeys(), '200.0.0.1', 5, '10.0.0.1', 6);
  assert.equal(isA, false);
  assert.equal(key, String.fromCharCode(0x0a00, 0x0001, 6, 0xc800, 0x0001, 5));
  const [, isA2] = keyOf(new FlowKeys(), '255.255.255.255', 1, '0.0.0.1', 1);
  assert.equal(isA2, false);
  const [, isA3] = keyOf(new FlowKeys(), '127.255.255.255', 1, '128.0.0.0', 1);
  assert.equal(isA3, true);
});

test('key: same address: the lower port is A; same port too: the sender is A', () => {
  assert.deepEqual(keyOf(new FlowKeys(), '10.0.0.1', 80, '10.0.0.1', 81), [String.fromCharCode(0x0a00, 1, 80, 0x0a00, 1, 81), true]);
  assert.deepEqual(keyOf(new FlowKeys(), '10.0.0.1', 81, '10.0.0.1', 80), [String.fromCharCode(0x0a00, 1, 80, 0x0a00, 1, 81), false]);
  assert.deepEqual(keyOf(new FlowKeys(), '10.0.0.1', 80, '10.0.0.1', 80), [String.fromCharCode(0x0a00, 1, 80, 0x0a00, 1, 80), true]);
  assert.deepEqual(keyOf(new FlowKeys(), '::1', 80, '::1', 81)[1], true);
  assert.deepEqual(keyOf(new FlowKeys(), '::1', 81, '::1', 80)[1], false);
  assert.deepEqual(keyOf(new FlowKeys(), '::1', 80, '::1', 80)[1], true);
});

test('key: the cache answers a repeated flow and its reverse, and nothing else', () => {
  const k = new FlowKeys();
  const base = keyOf(k, '10.0.0.1', 1000, '10.0.0.2', 2000);
  assert.deepEqual(keyOf(k, '10.0.0.1', 1000, '10.0.0.2', 2000), base);
  assert.deepEqual(keyOf(k, '10.0.0.2', 2000, '10.0.0.1', 1000), [base[0], false]);
  assert.deepEqual(keyOf(k, '10.0.0.2', 2000, '10.0.0.1', 1000), [base[0], false]); // still answered by the reverse check
  assert.deepEqual(keyOf(k, '10.0.0.1', 1000, '10.0.0.2', 2000), [base[0], true]);
  // Each field differing alone is another flow, forward and reverse.
  const variants: [string, number, string, number][] = [
    ['10.0.0.3', 1000, '10.0.0.2', 2000],
    ['10.0.0.1', 1001, '10.0.0.2', 2000],
    ['10.0.0.1', 1000, '10.0.0.4', 2000],
    ['10.0.0.1', 1000, '10.0.0.2', 2001],
    ['10.0.0.2', 2000, '10.0.0.1', 1001], // reverse with one port off
    ['10.0.0.2', 2001, '10.0.0.1', 1000],
    ['10.0.0.9', 2000, '10.0.0.1', 1000],
    ['10.0.0.2', 2000, '10.0.0.9', 1000],
  ];
  for (const v of variants) {
    keyOf(k, '10.0.0.1', 1000, '10.0.0.2', 2000); // prime the cache
    const got = keyOf(k, ...v);
    const want = reference(...v);
    assert.deepEqual(got, [want.key, want.senderIsA], v.join(' '));
    assert.notEqual(got[0], base[0]);
  }
});

test('key: IPv6 keys are 18 words, ordered bytewise, never equal to an IPv4 key', () => {
  const k = new FlowKeys();
  const [key, isA] = keyOf(k, '2001:db8::10', 443, '2001:db8::2', 50000);
  assert.equal(isA, false);
  assert.equal(key.length, 18);
  assert.equal(key, reference('2001:db8::10', 443, '2001:db8::2', 50000).key);
  assert.equal(key, String.fromCharCode(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2, 50000, 0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10, 443));
  assert.deepEqual(keyOf(k, '2001:db8::2', 50000, '2001:db8::10', 443), [key, true]);
  // Differing in the last byte only, and in the first only.
  assert.equal(keyOf(k, 'ff00::1', 1, '::1', 1)[1], false);
  assert.equal(keyOf(k, '::1:0', 1, '::2', 1)[1], false);
  assert.equal(keyOf(k, '::2', 9, '::1:0', 1)[1], true);
  assert.equal(keyOf(new FlowKeys(), '10.0.0.1', 1, '10.0.0.2', 2)[0].length, 6);
});

test('key: any sequence of flows through one FlowKeys matches the reference (cache never stale)', () => {
  const v4 = fc.constantFrom('10.0.0.1', '10.0.0.2', '200.1.1.1', '0.0.0.0');
  const v6 = fc.constantFrom('::1', '::2', 'fe80::1', '2001:db8::1');
  const port = fc.constantFrom(53, 80, 1024, 65535);
  const flow: fc.Arbitrary<[string, number, string, number]> = fc.oneof(fc.tuple(v4, port, v4, port), fc.tuple(v6, port, v6, port));
  fc.assert(
    fc.property(fc.array(flow, { maxLength: 30 }), (flows) => {
      const k = new FlowKeys();
      for (const f of flows) {
        const want = reference(...f);
        assert.deepEqual(keyOf(k, ...f), [want.key, want.senderIsA]);
      }
    }),
    { numRuns: 200, seed: 13 },
  );
});

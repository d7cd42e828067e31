/**
 * `chatgpt.sentiment(text)` computed locally: a small VADER-style lexicon score
 * ({neg, neu, pos, compound}, compound normalised to [-1, 1] the way VADER does). Not VADER's
 * full lexicon — good enough to sort "great, thanks" from "this is broken".
 */
const LEXICON: Record<string, number> = {
  good: 1.9, great: 3.1, excellent: 2.7, love: 3.2, like: 1.5, happy: 2.7, thanks: 1.9, thank: 1.5, nice: 1.8,
  awesome: 3.1, ok: 0.9, fine: 0.8, fast: 1.0, success: 2.7, successful: 2.8, works: 1.0, working: 0.8, best: 3.2,
  bad: -2.5, terrible: -2.5, awful: -2.0, hate: -2.7, slow: -1.0, error: -1.4, errors: -1.4, fail: -2.5, failed: -2.3,
  failure: -2.3, broken: -2.1, wrong: -2.1, worst: -3.1, sad: -2.1, angry: -2.3, timeout: -1.2, crash: -2.3,
  problem: -1.7, problems: -1.7, denied: -1.4, unauthorized: -1.5, forbidden: -1.6, refused: -1.3, invalid: -1.2,
};
const NEGATIONS = new Set(['not', 'no', 'never', "isn't", "don't", "doesn't", "wasn't", "can't", 'cannot', "won't"]);

export function sentiment(text: string): { neg: number; neu: number; pos: number; compound: number } {
  const words = text.toLowerCase().match(/[a-z']+/g) ?? [];
  let pos = 0;
  let neg = 0;
  let neu = 0;
  let sum = 0;
  words.forEach((w, i) => {
    let v = LEXICON[w] ?? 0;
    if (v !== 0 && i > 0 && NEGATIONS.has(words[i - 1])) v *= -0.74;
    sum += v;
    if (v > 0) pos += v + 1;
    else if (v < 0) neg += -v + 1;
    else neu += 1;
  });
  const total = pos + neg + neu || 1;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { neg: r(neg / total), neu: r(neu / total), pos: r(pos / total), compound: r(sum / Math.sqrt(sum * sum + 15)) };
}

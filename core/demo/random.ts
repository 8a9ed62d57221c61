// A small seeded PRNG and draw helpers, so the demo dataset is the same on every machine and in tests.
// Not for anything secret: passwords come from node:crypto.

/** mulberry32: 32 bits of state, fast, and good enough to make test data look varied. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Random = () => number;

/** An integer in [min, max], both included. */
export function randomInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export function chance(random: Random, probability: number): boolean {
  return random() < probability;
}

export function pick<T>(random: Random, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new RangeError('cannot pick from an empty list');
  return item;
}

export function weightedPick<T>(random: Random, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let point = random() * total;
  for (const [item, weight] of choices) {
    point -= weight;
    if (point < 0) return item;
  }
  // Floating-point rounding can leave a sliver past the last weight.
  const last = choices.at(-1);
  if (last === undefined) throw new RangeError('cannot pick from an empty list');
  return last[0];
}

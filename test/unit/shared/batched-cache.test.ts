// The routing API's cache: misses read together, values never served past their TTL (counted from when
// their read was sent), keys in use re-read in the background, failures never extending a value's life.
import { describe, expect, it, vi } from 'vitest';
import { BatchedCache, type BatchedCacheOptions } from '../../../core/shared/batched-cache.ts';

/** A cache over a fake source whose values are `<key>@<read number>`, on a clock the test moves. */
function setup(options: Partial<BatchedCacheOptions<string>> = {}) {
  let time = 1_000;
  let reads = 0;
  const loads: string[][] = [];
  const control: { fail: Error | null; delay: number } = { fail: null, delay: 0 };
  const cache = new BatchedCache<string>({
    ttlMs: 2_000,
    refreshDelayMs: 1,
    now: () => time,
    load: (keys) => {
      loads.push([...keys]);
      const read = ++reads;
      if (control.delay) time += control.delay;
      if (control.fail) return Promise.reject(control.fail);
      return Promise.resolve(keys.map((k) => `${k}@${read}`));
    },
    ...options,
  });
  return {
    cache,
    loads,
    control,
    advance: (ms: number) => {
      time += ms;
    },
  };
}

/** Lets the background re-read timer (1 ms) fire and its load settle. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('BatchedCache', () => {
  it('reads the keys missed in one turn of the event loop with one load, each key once', async () => {
    const { cache, loads } = setup();
    const values = await Promise.all(['a', 'b', 'a', 'c'].map((k) => cache.get(k)));
    expect(values).toEqual(['a@1', 'b@1', 'a@1', 'c@1']);
    expect(loads).toEqual([['a', 'b', 'c']]);
    expect(cache.stats).toMatchObject({ misses: 4, loads: 1 });
  });

  it('splits big batches', async () => {
    const { cache, loads } = setup({ maxBatch: 2 });
    await Promise.all(['a', 'b', 'c'].map((k) => cache.get(k)));
    expect(loads).toEqual([['a', 'b'], ['c']]);
  });

  it('answers from memory until the TTL, counted from when the read was sent, never after', async () => {
    const { cache, loads, control, advance } = setup({ refreshAfterMs: 10_000 });
    control.delay = 500; // the read takes half a second
    expect(await cache.get('a')).toBe('a@1');
    control.delay = 0;
    advance(1_499); // 1,999 ms after the read was sent
    expect(await cache.get('a')).toBe('a@1');
    expect(loads).toHaveLength(1);
    advance(1);
    expect(cache.peek('a')).toBeUndefined();
    expect(await cache.get('a')).toBe('a@2');
    expect(loads).toHaveLength(2);
  });

  it('does not keep a value whose read took longer than the TTL', async () => {
    const { cache, loads, control } = setup();
    control.delay = 2_000;
    expect(await cache.get('a')).toBe('a@1');
    control.delay = 0;
    expect(await cache.get('a')).toBe('a@2');
    expect(loads).toHaveLength(2);
  });

  it('re-reads a value in use in the background once it is older than refreshAfterMs', async () => {
    const { cache, loads, advance } = setup({ refreshAfterMs: 1_500 });
    await cache.get('a');
    await cache.get('b');
    advance(1_600);
    // Still answered from memory, at once; a and b go out together a moment later.
    expect(await cache.get('a')).toBe('a@1');
    expect(await cache.get('b')).toBe('b@2');
    expect(await cache.get('a')).toBe('a@1');
    expect(loads).toHaveLength(2);
    await settle();
    expect(loads).toEqual([['a'], ['b'], ['a', 'b']]);
    expect(cache.stats.refreshes).toBe(2);
    // The re-read value lives its own TTL: past the first read's TTL, still no waiting.
    advance(1_000);
    expect(await cache.get('a')).toBe('a@3');
    expect(loads).toHaveLength(3);
  });

  it('lets a failed background re-read go: the old value still expires on time', async () => {
    const onError = vi.fn();
    const { cache, control, advance } = setup({ refreshAfterMs: 1_000, onError });
    await cache.get('a');
    advance(1_500);
    control.fail = new Error('database down');
    expect(await cache.get('a')).toBe('a@1');
    await settle();
    expect(onError).toHaveBeenCalledWith(control.fail);
    advance(500);
    await expect(cache.get('a')).rejects.toThrow('database down');
  });

  it('gives a failed read to everyone waiting, and reads again on the next ask', async () => {
    const { cache, control } = setup();
    control.fail = new Error('database down');
    const waiting = [cache.get('a'), cache.get('a'), cache.get('b')];
    for (const w of waiting) await expect(w).rejects.toThrow('database down');
    control.fail = null;
    expect(await cache.get('a')).toBe('a@2');
  });

  it('keeps at most maxEntries, dropping the least recently read', async () => {
    const { cache, loads } = setup({ maxEntries: 2 });
    await cache.get('a');
    await cache.get('b');
    await cache.get('c');
    expect(cache.size).toBe(2);
    expect(await cache.get('c')).toBe('c@3');
    expect(await cache.get('a')).toBe('a@4');
    expect(loads).toHaveLength(4);
  });

  it('with a TTL of 0, still batches but keeps nothing', async () => {
    const { cache, loads } = setup({ ttlMs: 0 });
    await Promise.all([cache.get('a'), cache.get('b')]);
    await cache.get('a');
    expect(loads).toEqual([['a', 'b'], ['a']]);
    expect(cache.size).toBe(0);
  });
});

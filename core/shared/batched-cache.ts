// An in-process read cache with a hard bound on staleness, for lookups that must be fast and may be a
// moment old but never more (the routing API). A value is served for at most `ttlMs` after the read that
// produced it was sent, never longer, whatever happens to the database.
//
// - Misses are gathered over one turn of the event loop and read in one call of `load` (one query for many
//   keys); a key already being read is not read twice.
// - A value still valid but older than `refreshAfterMs` is re-read in the background when it is used,
//   gathered with others for `refreshDelayMs`: keys in steady use are kept fresh without a request ever
//   waiting for the database. A failed re-read leaves the old value to expire on time.
// - At most `maxEntries` values are kept; the least recently read go first.

export interface BatchedCacheOptions<V> {
  /** Reads values for keys, in the same order (one query for all of them). */
  readonly load: (keys: readonly string[]) => Promise<readonly V[]>;
  /** How long a value may be served after its read was sent. */
  readonly ttlMs: number;
  /** A value used after this age is re-read in the background; defaults to half the TTL. */
  readonly refreshAfterMs?: number;
  /** How long background re-reads are gathered before they go out together. */
  readonly refreshDelayMs?: number;
  readonly maxEntries?: number;
  /** Keys per `load` call at most. */
  readonly maxBatch?: number;
  /** Milliseconds on a monotonic clock (tests pass their own). */
  readonly now?: () => number;
  /** Failures of background re-reads (a waiting caller gets its own failure instead). */
  readonly onError?: (error: unknown) => void;
}

export interface BatchedCacheStats {
  /** Answered from memory. */
  hits: number;
  /** Had to wait for a read. */
  misses: number;
  /** Keys re-read in the background. */
  refreshes: number;
  /** Calls of `load`. */
  loads: number;
}

interface Entry<V> {
  readonly value: V;
  /** When the read that produced it was sent. */
  readonly readAt: number;
}

interface Deferred<V> {
  readonly promise: Promise<V>;
  resolve(value: V): void;
  reject(error: unknown): void;
}

export class BatchedCache<V> {
  readonly stats: BatchedCacheStats = { hits: 0, misses: 0, refreshes: 0, loads: 0 };
  private readonly options: Required<Omit<BatchedCacheOptions<V>, 'onError'>> &
    Pick<BatchedCacheOptions<V>, 'onError'>;
  private readonly entries = new Map<string, Entry<V>>();
  /** Reads sent and not yet answered. */
  private readonly inFlight = new Map<string, Deferred<V>>();
  /** Misses waiting for the next turn of the event loop. */
  private misses = new Map<string, Deferred<V>>();
  private missesScheduled = false;
  /** Background re-reads waiting for their batch. */
  private refreshes = new Set<string>();
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(options: BatchedCacheOptions<V>) {
    this.options = {
      refreshAfterMs: options.ttlMs / 2,
      refreshDelayMs: 50,
      maxEntries: 100_000,
      maxBatch: 500,
      now: () => performance.now(),
      ...options,
    };
  }

  /** The value for `key`: from memory while it is young enough, else read (with other keys). */
  get(key: string): Promise<V> {
    const entry = this.peek(key);
    if (entry !== undefined) return Promise.resolve(entry.value);
    this.stats.misses++;
    const pending = this.inFlight.get(key) ?? this.misses.get(key);
    if (pending) return pending.promise;
    const deferred = defer<V>();
    this.refreshes.delete(key);
    this.misses.set(key, deferred);
    if (!this.missesScheduled) {
      this.missesScheduled = true;
      setImmediate(() => this.flushMisses());
    }
    return deferred.promise;
  }

  /**
   * The cached value if it may still be served (counted as a hit), without reading anything that is
   * missing; schedules the background re-read of an ageing one.
   */
  peek(key: string): Entry<V> | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const age = this.options.now() - entry.readAt;
    if (age >= this.options.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    if (age >= this.options.refreshAfterMs) this.scheduleRefresh(key);
    this.stats.hits++;
    return entry;
  }

  /** Number of values held (some may have expired and not been looked at since). */
  get size(): number {
    return this.entries.size;
  }

  private scheduleRefresh(key: string): void {
    if (this.inFlight.has(key) || this.misses.has(key) || this.refreshes.has(key)) return;
    this.refreshes.add(key);
    if (this.refreshes.size >= this.options.maxBatch) {
      this.flushRefreshes();
    } else if (this.refreshTimer === undefined) {
      this.refreshTimer = setTimeout(() => this.flushRefreshes(), this.options.refreshDelayMs);
      this.refreshTimer.unref();
    }
  }

  private flushMisses(): void {
    this.missesScheduled = false;
    const misses = this.misses;
    this.misses = new Map();
    this.send([...misses.keys()], misses);
  }

  private flushRefreshes(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    const keys = [...this.refreshes];
    this.refreshes = new Set();
    this.stats.refreshes += keys.length;
    this.send(keys, new Map());
  }

  private send(keys: readonly string[], waiting: ReadonlyMap<string, Deferred<V>>): void {
    for (let i = 0; i < keys.length; i += this.options.maxBatch) {
      const batch = keys.slice(i, i + this.options.maxBatch);
      const deferreds = batch.map((key) => {
        const deferred = waiting.get(key) ?? defer<V>();
        // Nobody may be waiting for a background re-read: its failure goes to onError, not unhandled.
        deferred.promise.catch(() => {});
        this.inFlight.set(key, deferred);
        return deferred;
      });
      const readAt = this.options.now();
      this.stats.loads++;
      this.options.load(batch).then(
        (values) => {
          batch.forEach((key, k) => {
            this.store(key, values[k] as V, readAt);
            this.inFlight.delete(key);
            deferreds[k]!.resolve(values[k] as V);
          });
        },
        (error: unknown) => {
          batch.forEach((key, k) => {
            this.inFlight.delete(key);
            deferreds[k]!.reject(error);
          });
          if (batch.some((key) => !waiting.has(key))) this.options.onError?.(error);
        },
      );
    }
  }

  private store(key: string, value: V, readAt: number): void {
    if (this.options.now() - readAt >= this.options.ttlMs) return;
    // Deleting first moves the key to the end: the map stays in read order, oldest first.
    this.entries.delete(key);
    this.entries.set(key, { value, readAt });
    if (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}

function defer<V>(): Deferred<V> {
  let resolve!: (value: V) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<V>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

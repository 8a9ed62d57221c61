// The routing API's reads: call decisions and token checks, behind one small interface so the web role
// keeps an in-process cache in front of the database without the routes knowing.
//
// How stale an answer can be: at most ROUTING_CACHE_TTL_MS (2 s) after the change committed. A decision
// or a token check is served for at most 2 s after the query that produced it was sent, never longer (no
// serving stale values when the database fails), so a number suspended or released, an account suspended
// or closed, transfer switched off or a token revoked is obeyed by every web process within 2 s.
//
// Why a cache at all: the target is thousands of lookups a second with a p99 under 10 ms from one web
// process, on a machine the database shares; a query per lookup managed about a quarter of that. The cache
// (core/shared/batched-cache.ts) reads misses for many numbers in one query, and re-reads numbers in steady
// use in the background after 1 s, so a switch asking about its numbers again and again gets answers from
// memory that are never more than 2 s old. LISTEN/NOTIFY invalidation could make answers fresher, but
// needs a connection outside the pool and triggers on every table a decision reads; not worth it at 2 s.
import {
  isWellFormedToken,
  touchApiToken,
  verifyApiToken,
  type ApiTokenInfo,
} from '../api-tokens/api-tokens.ts';
import type { Executor } from '../context.ts';
import { BatchedCache } from '../shared/batched-cache.ts';
import { parseCalledNumber, routeNumbers, type RouteDecision } from './route-call.ts';

export interface RoutingLookup {
  /**
   * The decision for a called number as the switch sent it (see parseCalledNumber). Throws an `invalid`
   * DomainError when it is not a phone number.
   */
  route(calledNumber: string): Promise<RouteDecision>;
  /** The decision if one may be served from memory right now (undefined: ask `route`). Never reads. */
  cachedRoute(calledNumber: string): RouteDecision | undefined;
  /** The live token a bearer value names, or null. */
  verifyToken(bearer: string): Promise<ApiTokenInfo | null>;
  /** The token check if one may be served from memory right now (undefined: ask `verifyToken`). */
  cachedToken(bearer: string): ApiTokenInfo | null | undefined;
  /** Notes a successful use of a token; written at most once a minute per token. */
  tokenUsed(token: ApiTokenInfo): void;
}

export interface RoutingLookupOptions {
  /** How long an answer may be served after its query was sent; 0 reads every lookup afresh. */
  readonly ttlMs?: number;
  /** Background re-reads and last_used_at writes that failed (a waiting request gets its own error). */
  readonly onError?: (error: unknown) => void;
  /** Milliseconds on a monotonic clock; tests pass their own. */
  readonly now?: () => number;
}

/** The staleness bound of the routing API (see above). */
export const ROUTING_CACHE_TTL_MS = 2_000;
/** last_used_at is for people ("is this token still used?"): a minute's precision is plenty. */
export const TOKEN_TOUCH_INTERVAL_MS = 60_000;
/**
 * Decisions kept at most (~1 KB each with their JSON). Only those read in the last 2 s can be served, so
 * this is room for 25,000 different numbers a second; probing random numbers cannot grow it further.
 */
const MAX_DECISIONS = 50_000;
/** Token checks kept at most, good and bad: random tokens from a prober must not grow memory. */
const MAX_TOKENS = 10_000;
/** E.164 with or without its +, the way switches send numbers. */
const PLAIN_E164 = /^\+?([1-9]\d{6,14})$/;

export function createRoutingLookup(db: Executor, options: RoutingLookupOptions = {}): RoutingLookup {
  const ttlMs = options.ttlMs ?? ROUTING_CACHE_TTL_MS;
  const now = options.now ?? (() => performance.now());
  const decisions = new BatchedCache<RouteDecision>({
    load: (numbers) => routeNumbers(db, numbers),
    ttlMs,
    // Re-read numbers in use in their last half second: once per 1.5 s or so instead of every second.
    refreshAfterMs: ttlMs * 0.75,
    maxEntries: MAX_DECISIONS,
    maxBatch: 200,
    now,
    onError: options.onError,
  });
  // Keyed by the token itself: it is in this process's memory for every request anyway, and hashing it
  // again for the key would cost more than the rest of a cached lookup.
  const tokens = new BatchedCache<ApiTokenInfo | null>({
    load: (bearers) => Promise.all(bearers.map((bearer) => verifyApiToken(db, bearer))),
    ttlMs,
    maxEntries: MAX_TOKENS,
    now,
    onError: options.onError,
  });
  const lastTouched = new Map<number, number>();

  const cachedRoute = (calledNumber: string): RouteDecision | undefined => {
    // Only the way switches send numbers, E.164 with or without its +, is looked up without parsing: keys
    // are parseNumber's own E.164 output, and parsing an E.164 number gives it back unchanged.
    const plain = PLAIN_E164.exec(calledNumber);
    return plain ? decisions.peek('+' + plain[1]!)?.value : undefined;
  };

  return {
    async route(calledNumber) {
      return cachedRoute(calledNumber) ?? decisions.get(parseCalledNumber(calledNumber));
    },
    cachedRoute,
    async verifyToken(bearer) {
      return isWellFormedToken(bearer) ? tokens.get(bearer) : null;
    },
    cachedToken(bearer) {
      return isWellFormedToken(bearer) ? tokens.peek(bearer)?.value : null;
    },
    tokenUsed(token) {
      const at = now();
      const last = lastTouched.get(token.id);
      if (last !== undefined && at - last < TOKEN_TOUCH_INTERVAL_MS) return;
      lastTouched.set(token.id, at);
      touchApiToken(db, token.id, new Date()).catch((error: unknown) => options.onError?.(error));
    },
  };
}

// Questions the bot asked and is waiting for a typed answer to (the Assign button asks "which account?").
// Telegram links the answer to the question's message, so the key is chat id + message id.
//
// Kept in this process's memory only, for 10 minutes: a restart, or another process receiving the answer
// (several web processes behind a load balancer), forgets the question, and the user is asked to tap the
// button again. That is cheap to redo and keeps a half-finished chat exchange out of the database.
import type { Clock } from '../../core/shared/clock.ts';

export const QUESTION_TTL_MS = 10 * 60 * 1000;
/** Bounds memory should someone tap Assign in a loop; the oldest questions go first. */
const MAX_QUESTIONS = 10_000;

export interface PendingQuestions<T> {
  remember(chatId: number, messageId: number, value: T): void;
  /** The waiting question's value; undefined when never asked, answered or expired. */
  find(chatId: number, messageId: number): T | undefined;
  forget(chatId: number, messageId: number): void;
}

export function createPendingQuestions<T>(clock: Clock, ttlMs = QUESTION_TTL_MS): PendingQuestions<T> {
  const waiting = new Map<string, { value: T; expiresAt: number }>();
  const key = (chatId: number, messageId: number) => `${chatId}:${messageId}`;
  const prune = (now: number) => {
    for (const [k, entry] of waiting) if (entry.expiresAt <= now) waiting.delete(k);
    // Maps iterate in insertion order: the first keys are the oldest.
    for (const k of waiting.keys()) {
      if (waiting.size <= MAX_QUESTIONS) break;
      waiting.delete(k);
    }
  };
  return {
    remember(chatId, messageId, value) {
      const now = clock.now().getTime();
      waiting.set(key(chatId, messageId), { value, expiresAt: now + ttlMs });
      prune(now);
    },
    find(chatId, messageId) {
      const entry = waiting.get(key(chatId, messageId));
      if (!entry) return undefined;
      if (entry.expiresAt <= clock.now().getTime()) {
        waiting.delete(key(chatId, messageId));
        return undefined;
      }
      return entry.value;
    },
    forget(chatId, messageId) {
      waiting.delete(key(chatId, messageId));
    },
  };
}

// The in-memory questions the bot waits for answers to, and their 10-minute expiry.
import { describe, expect, it } from 'vitest';
import { QUESTION_TTL_MS, createPendingQuestions } from '../../../../bot/telegram/pending-questions.ts';
import { ManualClock } from '../../../../core/shared/clock.ts';

describe('pending questions', () => {
  it('finds a question by chat and message until it is forgotten', () => {
    const questions = createPendingQuestions<string>(new ManualClock());
    questions.remember(1, 10, 'a');
    expect(questions.find(1, 10)).toBe('a');
    expect(questions.find(1, 11)).toBeUndefined();
    expect(questions.find(2, 10)).toBeUndefined();
    questions.forget(1, 10);
    expect(questions.find(1, 10)).toBeUndefined();
  });

  it('forgets a question after 10 minutes', () => {
    const clock = new ManualClock();
    const questions = createPendingQuestions<string>(clock);
    questions.remember(1, 10, 'a');
    clock.advance(QUESTION_TTL_MS - 1);
    expect(questions.find(1, 10)).toBe('a');
    clock.advance(1);
    expect(questions.find(1, 10)).toBeUndefined();
  });
});

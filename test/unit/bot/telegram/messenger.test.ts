// The one bounded retry after Telegram's "too many requests".
import { TelegramError } from 'telegraf';
import { describe, expect, it, vi } from 'vitest';
import { withRetryAfter } from '../../../../bot/telegram/messenger.ts';
import { silentLogger } from '../../../../core/runtime/logger.ts';

const tooMany = (retryAfter: number) =>
  new TelegramError({
    error_code: 429,
    description: `Too Many Requests: retry after ${retryAfter}`,
    parameters: { retry_after: retryAfter },
  });

describe('withRetryAfter', () => {
  it('waits retry_after seconds and tries once more', async () => {
    const sleep = vi.fn(() => Promise.resolve());
    const call = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(tooMany(3))
      .mockResolvedValueOnce('sent');
    await expect(withRetryAfter(call, { log: silentLogger, sleep })).resolves.toBe('sent');
    expect(sleep).toHaveBeenCalledWith(3000);
    expect(call).toHaveBeenCalledTimes(2);
  });

  it('gives up after the second 429, and at once when asked to wait too long', async () => {
    const sleep = vi.fn(() => Promise.resolve());
    const twice = vi.fn<() => Promise<string>>().mockRejectedValue(tooMany(1));
    await expect(withRetryAfter(twice, { log: silentLogger, sleep })).rejects.toThrow(/Too Many/);
    expect(twice).toHaveBeenCalledTimes(2);

    const long = vi.fn<() => Promise<string>>().mockRejectedValue(tooMany(600));
    await expect(withRetryAfter(long, { log: silentLogger, sleep })).rejects.toThrow(/Too Many/);
    expect(long).toHaveBeenCalledTimes(1);
  });

  it('does not retry other errors', async () => {
    const call = vi
      .fn<() => Promise<string>>()
      .mockRejectedValue(new TelegramError({ error_code: 400, description: 'Bad Request: chat not found' }));
    await expect(withRetryAfter(call, { log: silentLogger })).rejects.toThrow(/chat not found/);
    expect(call).toHaveBeenCalledTimes(1);
  });
});

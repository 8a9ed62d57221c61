// Getting the DomainError out of an operation that should refuse, so a test can assert on its code,
// message, help and field. Anything else thrown (a bug, a driver error) fails the test as it is.
import { expect } from 'vitest';
import { DomainError } from '../../core/shared/errors.ts';

export async function errorOf(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (error === null) throw new Error('expected a DomainError, but the operation succeeded');
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

export function syncErrorOf(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError, but nothing was thrown');
}

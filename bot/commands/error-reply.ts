// The one place a chat or console turns a domain error into what the user reads. Branches on the error's
// code, never on its text.
import { DomainError, type ErrorCode } from '../../core/shared/errors.ts';
import { failure, type Reply } from './reply.ts';

/** CLI exit codes by error kind, so scripts can tell "bad input" from "not found" from "taken". */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  invalid: 2,
  not_found: 3,
  conflict: 4,
  forbidden: 5,
  payment_failed: 6,
  unavailable: 7,
};

/** A reply for a domain error; anything else is a bug or an outage and is rethrown for the adapter. */
export function replyForError(error: unknown): Reply {
  if (!(error instanceof DomainError)) throw error;
  return failure(
    EXIT_CODES[error.code],
    { type: 'text', text: `✗ ${error.message}` },
    ...(error.help ? [{ type: 'hint' as const, text: error.help }] : []),
  );
}

export function replyForUsage(message: string, usage?: string): Reply {
  return failure(
    EXIT_CODES.invalid,
    { type: 'text', text: `✗ ${message}` },
    ...(usage ? [{ type: 'hint' as const, text: `Usage: ${usage}` }] : []),
  );
}

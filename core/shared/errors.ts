// The one error type the domain throws. Front doors map `code` to their own answer (HTTP status, chat
// reply, CLI exit code) in exactly one place each, and never branch on the message text.

export const ERROR_CODES = [
  'invalid',
  'not_found',
  'conflict',
  'forbidden',
  'payment_failed',
  'unavailable',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface DomainErrorOptions {
  /** What the user can do about it, shown after the message. */
  readonly help?: string;
  /** Field the problem is about, for forms and per-row import errors. */
  readonly field?: string;
  readonly cause?: unknown;
}

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly help: string | undefined;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options: DomainErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.help = options.help;
    this.field = options.field;
  }

  /** Message and help as one line, for plain-text channels. */
  get fullMessage(): string {
    return this.help ? `${this.message} ${this.help}` : this.message;
  }
}

export const invalid = (message: string, options?: DomainErrorOptions) =>
  new DomainError('invalid', message, options);
export const notFound = (message: string, options?: DomainErrorOptions) =>
  new DomainError('not_found', message, options);
export const conflict = (message: string, options?: DomainErrorOptions) =>
  new DomainError('conflict', message, options);
export const forbidden = (message: string, options?: DomainErrorOptions) =>
  new DomainError('forbidden', message, options);

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}

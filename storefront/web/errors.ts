// The storefront's one error translator: a DomainError's code becomes an HTTP status and a page, here and
// nowhere else. A POST that declared its form (formPage) gets that form back with the problem next to
// the field it names (DomainError.field) and what was typed kept (passwords never); so does a search form
// (GET) that declared itself. Anything else gets the error page. Errors that are not domain errors are bugs or outages: logged, answered with a bare 500.
import { isUnavailableError } from '../../core/db/unavailable.ts';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../../core/runtime/logger.ts';
import { DomainError, type ErrorCode } from '../../core/shared/errors.ts';
import { TooManyAttemptsError } from '../../core/web-auth/login.ts';
import { CSRF_FIELD } from './csrf.ts';
import type { Pages } from './render.ts';
import { webState } from './state.ts';

const STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
  forbidden: 403,
  payment_failed: 402,
  unavailable: 503,
};

const TITLES: Readonly<Record<ErrorCode, string>> = {
  invalid: 'Please check what you entered',
  not_found: 'Not found',
  conflict: 'That cannot be done now',
  forbidden: 'Not allowed',
  payment_failed: 'The payment did not go through',
  unavailable: 'Please try again later',
};

/** The HTTP status for a domain error. */
export function httpStatusFor(error: DomainError): number {
  if (error instanceof TooManyAttemptsError) return 429;
  return STATUS[error.code];
}

/**
 * Declares the form a POST route renders, so a refusal shows it again with the errors next to `fields`
 * (the inputs it has). Put it after the CSRF check: a forged request gets the 403 page, not a fresh form.
 */
export function formPage(view: string, title: string, fields: readonly string[]): RequestHandler {
  return (_req, res, next) => {
    webState(res).form = { view, title, fields, data: {} };
    next();
  };
}

/** Extra data for the declared form's view (e.g. the invitation being used), set by the route. */
export function setFormData(res: Response, data: Record<string, unknown>): void {
  const form = webState(res).form;
  if (form) Object.assign(form.data, data);
}

/** Renders the 404 page (unknown paths, from the app's fallback). */
export function renderNotFound(pages: Pages, req: Request, res: Response): void {
  pages.render(
    req,
    res,
    'errors/error',
    {
      title: 'Page not found',
      heading: 'Page not found',
      message: 'There is nothing at this address.',
      help: 'Check the address, or start from the catalog.',
    },
    404,
  );
}

export function webErrorHandler(deps: { pages: Pages; log: Logger }): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof DomainError) {
      const status = httpStatusFor(error);
      if (error instanceof TooManyAttemptsError) res.set('Retry-After', String(error.retryAfterSeconds));
      const form = webState(res).form;
      if (form) {
        const problem = error.help ? `${error.message} ${error.help}` : error.message;
        // A problem with a field the form shows goes next to it; any other, above the form.
        const field = error.field !== undefined && form.fields.includes(error.field) ? error.field : null;
        deps.pages.render(
          req,
          res,
          form.view,
          {
            title: form.title,
            ...form.data,
            values: submittedValues(req),
            errors: field ? { [field]: problem } : {},
            formError: field ? undefined : { message: error.message, help: error.help },
          },
          status,
        );
        return;
      }
      deps.pages.render(
        req,
        res,
        'errors/error',
        {
          title: TITLES[error.code],
          heading: error instanceof TooManyAttemptsError ? 'Too many attempts' : TITLES[error.code],
          message: error.message,
          help: error.help,
        },
        status,
      );
      return;
    }
    const clientStatus = clientErrorStatus(error);
    if (clientStatus !== null) {
      deps.pages.render(
        req,
        res,
        'errors/error',
        {
          title: 'Bad request',
          heading: 'Bad request',
          message: 'The request could not be understood.',
          help: 'Go back and try again.',
        },
        clientStatus,
      );
      return;
    }
    if (isUnavailableError(error)) {
      // An outage, not a bug: say so, and let the visitor retry once the database is back.
      deps.log.warn(
        { method: req.method, path: req.path, reason: String(error) },
        'Storefront page: database unavailable',
      );
      res.set('Retry-After', '5');
      deps.pages.render(
        req,
        res,
        'errors/error',
        {
          title: 'Temporarily unavailable',
          heading: 'Temporarily unavailable',
          message: 'The shop cannot reach its database right now, and nothing was changed.',
          help: 'Please try again in a few seconds.',
        },
        503,
      );
      return;
    }
    deps.log.error(
      { err: error, method: req.method, path: req.path },
      'Unhandled error in a storefront page',
    );
    try {
      deps.pages.render(
        req,
        res,
        'errors/error',
        {
          title: 'Something went wrong',
          heading: 'Something went wrong',
          message: 'Something went wrong on our side, and nothing was changed by it.',
          help: 'Please try again in a moment.',
        },
        500,
      );
    } catch {
      res.status(500).type('text').send('Something went wrong on our side. Please try again.');
    }
  };
}

/** What the person typed (a POST's body, a GET's query), to fill the form again: never passwords. */
function submittedValues(req: Request): Record<string, string> {
  const source = (req.method === 'GET' ? req.query : (req.body ?? {})) as Record<string, unknown>;
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === CSRF_FIELD || /password/i.test(key) || typeof value !== 'string') continue;
    values[key] = value;
  }
  return values;
}

function clientErrorStatus(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const value = status ?? statusCode;
  return typeof value === 'number' && value >= 400 && value < 500 ? value : null;
}

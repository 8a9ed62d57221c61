// Reading forms and query strings: the body parser for POST forms, the middleware chain every form POST
// goes through (parse, check CSRF, declare the form for the error translator), and plain-string access to
// fields that may be missing or repeated.
import express, { type Request, type RequestHandler } from 'express';
import type { Web } from './deps.ts';
import { formPage } from './errors.ts';

/** Small forms only; anything bigger is not one of ours. */
export const formBody: RequestHandler = express.urlencoded({
  extended: false,
  limit: '32kb',
  parameterLimit: 200,
});

/**
 * The middleware before a form's POST handler: parse the body, refuse it without the right CSRF token,
 * and (with a view) declare which form to show again when core refuses the input.
 */
export function postForm(
  web: Pick<Web, 'csrf'>,
  form?: { view: string; title: string; fields: readonly string[] },
): RequestHandler[] {
  return [formBody, web.csrf.verify, ...(form ? [formPage(form.view, form.title, form.fields)] : [])];
}

/** A field of the parsed body as one string ('' when missing; the first of repeated ones). */
export function bodyField(req: Request, name: string): string {
  return firstString((req.body as Record<string, unknown> | undefined)?.[name]);
}

/** A query-string parameter as one string ('' when missing; the first of repeated ones). */
export function queryField(req: Request, name: string): string {
  return firstString((req.query as Record<string, unknown>)[name]);
}

function firstString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return '';
}

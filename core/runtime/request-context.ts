// The request id that follows one piece of work across processes: a web request takes it from
// `X-Request-Id` or makes one (storefront/request-context.ts), every job it enqueues carries it in its payload
// (core/jobs/registry.ts), and the worker logs the job with it and passes it on to the jobs that job enqueues
// (core/jobs/job-context.ts). AsyncLocalStorage carries it through the awaits in between, so no function
// signature has to.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export interface RequestContext {
  readonly requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Letters, digits and `.`, `_`, `:`, `-`, at most 128: what proxies and tracers send, and safe in a log line. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id when it is one we accept, else null (the caller makes a new one). */
export function validRequestId(value: unknown): string | null {
  return typeof value === 'string' && REQUEST_ID.test(value) ? value : null;
}

export function newRequestId(): string {
  return randomUUID();
}

/** Runs `work` with `context` as the current request context (also in everything it awaits). */
export function runWithRequestContext<T>(context: RequestContext, work: () => T): T {
  return storage.run(context, work);
}

/** The request id of the work in progress, when it came from a request (or a job that did). */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

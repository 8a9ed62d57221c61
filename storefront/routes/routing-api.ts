// The routing API for the switch (DESIGN §4): `GET /api/v1/routing/:number` answers in JSON what to do with
// a call to that number; `POST /api/v1/freeswitch/dialplan` answers FreeSWITCH's mod_xml_curl with a
// dialplan document for the same decision. Both need an API token (`npm run did -- token create <name>`):
// as a bearer token, or for mod_xml_curl as the password of HTTP basic auth (any user name).
//
// A refused request changes nothing and says nothing about why the token was refused: missing, malformed,
// unknown and revoked all get the same 401. Answers come from core/routing/routing-lookup.ts, at most 2 s
// old; when both the token check and the decision are in memory the answer is sent without waiting on
// anything (the common case for a switch, and what the benchmark's throughput rests on).
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ApiTokenInfo } from '../../core/api-tokens/api-tokens.ts';
import type { Executor } from '../../core/context.ts';
import type { RouteDecision } from '../../core/routing/route-call.ts';
import { createRoutingLookup, type RoutingLookup } from '../../core/routing/routing-lookup.ts';
import type { Logger } from '../../core/runtime/logger.ts';
import { isDomainError } from '../../core/shared/errors.ts';
import {
  DEFAULT_CONTEXT,
  DEFAULT_GATEWAY,
  DEFAULT_PROFILE,
  FAILOVER_PATTERN,
  SWITCH_NAME,
  dialplanDocument,
  notFoundDocument,
} from './freeswitch-dialplan.ts';

export const ROUTING_PATH = '/api/v1/routing/:number';
export const FREESWITCH_DIALPLAN_PATH = '/api/v1/freeswitch/dialplan';

export interface RoutingApiDeps {
  readonly db: Executor;
  readonly log: Logger;
  /** Tests pass their own; by default one is made on `db` with the standard cache. */
  readonly lookup?: RoutingLookup;
}

type Accept = 'bearer' | 'bearer-or-basic';

const REALM = 'realm="didops routing"';
const UNAUTHORIZED = JSON.stringify({
  error: 'unauthorized',
  message:
    'A valid API token is required: send "Authorization: Bearer <token>". Operators create one with `npm run did -- token create <name>`.',
});
const FORBIDDEN = JSON.stringify({
  error: 'forbidden',
  message: 'This API token may not read call routing.',
});
const JSON_TYPE = 'application/json; charset=utf-8';

export function routingApi(deps: RoutingApiDeps): express.Router {
  const lookup =
    deps.lookup ??
    createRoutingLookup(deps.db, {
      onError: (err) => deps.log.warn({ err }, 'Routing API: a background read or write failed'),
    });
  const router = express.Router();
  // A cached decision is the same object for every request within its lifetime: serialize it once.
  const serialized = new WeakMap<RouteDecision, string>();

  const sendDecision = (res: Response, decision: RouteDecision) => {
    let json = serialized.get(decision);
    if (json === undefined) {
      json = JSON.stringify(decision);
      serialized.set(decision, json);
    }
    sendJson(res, decision.reason === 'unknown_number' ? 404 : 200, json);
  };

  router.get(ROUTING_PATH, (req: Request<{ number: string }>, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    const presented = presentedToken(req.headers.authorization, 'bearer');
    // The fast path: token and decision both in memory, answered in this turn of the event loop.
    const token = presented === null ? null : lookup.cachedToken(presented);
    const decision = token ? lookup.cachedRoute(req.params.number) : undefined;
    if (token && decision && refuse(res, token, 'bearer') === false) {
      lookup.tokenUsed(token);
      sendDecision(res, decision);
      return;
    }
    void (async () => {
      if (!(await authorized(lookup, presented, res, 'bearer'))) return;
      let found;
      try {
        found = await lookup.route(req.params.number);
      } catch (error) {
        if (!isDomainError(error) || error.code !== 'invalid') throw error;
        sendJson(
          res,
          400,
          JSON.stringify({ error: 'invalid_number', message: error.message, help: error.help }),
        );
        return;
      }
      sendDecision(res, found);
    })().catch(next);
  });

  const formBody = express.urlencoded({ extended: false, limit: '1mb', parameterLimit: 10_000 });

  router.post(
    FREESWITCH_DIALPLAN_PATH,
    // Authenticated before the body is read: a caller without a token costs no parsing.
    async (req: Request, res: Response, next: NextFunction) => {
      res.setHeader('Cache-Control', 'no-store');
      const presented = presentedToken(req.headers.authorization, 'bearer-or-basic');
      if (await authorized(lookup, presented, res, 'bearer-or-basic')) next();
    },
    // mod_xml_curl posts every channel variable: a few hundred fields.
    formBody,
    async (req, res) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const text = (name: string) => (typeof body[name] === 'string' ? body[name] : undefined);
      const query = (name: string) => (typeof req.query[name] === 'string' ? req.query[name] : undefined);
      const gateway = query('gateway') ?? DEFAULT_GATEWAY;
      const profile = query('profile') ?? DEFAULT_PROFILE;
      if (!SWITCH_NAME.test(gateway) || !SWITCH_NAME.test(profile)) {
        res
          .status(400)
          .type('text/plain')
          .send(
            'gateway= and profile= must be plain names (letters, digits, . _ -), as in your sofia configuration.\n',
          );
        return;
      }
      const xml = (document: string) => res.type('text/xml').send(document);
      const context = text('Hunt-Context') ?? text('Caller-Context') ?? DEFAULT_CONTEXT;
      const destination =
        text('Hunt-Destination-Number') ?? text('Caller-Destination-Number') ?? text('destination_number');
      // Other sections, other contexts' internal extensions (1000, *97) and anything that is not one of
      // our numbers: "not found", so FreeSWITCH goes on to its own configuration.
      if (text('section') !== 'dialplan' || !destination || !SWITCH_NAME.test(context)) {
        xml(notFoundDocument());
        return;
      }
      const failover = FAILOVER_PATTERN.exec(destination);
      let decision;
      try {
        decision = await lookup.route(failover ? failover[2]! : destination);
      } catch (error) {
        if (!isDomainError(error) || error.code !== 'invalid') throw error;
        xml(notFoundDocument());
        return;
      }
      xml(
        dialplanDocument(decision, {
          context,
          gateway,
          profile,
          calledAs: failover ? undefined : destination,
        }),
      );
    },
  );

  return router;
}

/** Checks the presented token; answers 401 or 403 itself and returns false when it is not good. */
async function authorized(
  lookup: RoutingLookup,
  presented: string | null,
  res: Response,
  accept: Accept,
): Promise<boolean> {
  const token = presented === null ? null : await lookup.verifyToken(presented);
  if (refuse(res, token, accept)) return false;
  lookup.tokenUsed(token!);
  return true;
}

/** Sends the refusal for a missing token (401, whatever was wrong) or one without the scope (403). */
function refuse(res: Response, token: ApiTokenInfo | null, accept: Accept): boolean {
  if (!token) {
    const challenge = accept === 'bearer' ? `Bearer ${REALM}` : `Basic ${REALM}, Bearer ${REALM}`;
    res.setHeader('WWW-Authenticate', challenge);
    sendJson(res, 401, UNAUTHORIZED);
    return true;
  }
  if (!token.scopes.includes('routing')) {
    res.setHeader('WWW-Authenticate', `Bearer ${REALM}, error="insufficient_scope", scope="routing"`);
    sendJson(res, 403, FORBIDDEN);
    return true;
  }
  return false;
}

/** The token in an Authorization header: `Bearer <token>`, or (when allowed) basic auth's password. */
function presentedToken(header: string | undefined, accept: Accept): string | null {
  if (!header || header.length > 1024) return null;
  const bearer = /^Bearer +(\S+) *$/i.exec(header);
  if (bearer) return bearer[1]!;
  if (accept !== 'bearer-or-basic') return null;
  const basic = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  if (!basic) return null;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? null : decoded.slice(colon + 1);
}

/**
 * JSON sent as it is, without express's ETag: the answers are no-store, and hashing every body for a tag
 * nobody revalidates cost more than the rest of a cached lookup (the benchmark's ceiling doubled without).
 */
function sendJson(res: Response, status: number, json: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', JSON_TYPE);
  res.end(json);
}

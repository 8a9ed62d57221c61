// What the routing API tests share: the real web app on a free port, an API token, and numbers in the
// states a switch meets.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { createApiToken } from '../../../core/api-tokens/api-tokens.ts';
import { loadConfig } from '../../../core/config.ts';
import type { Db } from '../../../core/db/connect.ts';
import type { Insertable } from 'kysely';
import type { Account, CallTransfersTable, Did, NewDid } from '../../../core/db/schema.ts';
import { silentLogger } from '../../../core/runtime/logger.ts';
import { createWebApp } from '../../../storefront/app.ts';
import { actorOf, buildDid, buildHierarchy, ctxFor } from '../../helpers/factories.ts';

const servers: Server[] = [];

afterEach(async () => {
  while (servers.length) {
    const server = servers.pop()!;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** createWebApp as `npm start` builds it, listening on a free port; closed after the test. */
export async function serve(db: Db): Promise<string> {
  const app = createWebApp({ db, config: loadConfig({}), log: silentLogger });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The operator tree of buildHierarchy, a routing token, and helpers to put numbers in place. */
export async function routingWorld(db: Db) {
  const world = await buildHierarchy(db);
  const admin = ctxFor(db, actorOf(world.operator, 'admin'));
  const { plaintext: token } = await createApiToken(admin, { name: 'freeswitch' });
  /** A number in use by `customer` (held through its reseller when it has one). */
  const assigned = (customer: Account, overrides: Partial<NewDid> = {}): Promise<Did> => {
    const reseller =
      customer.parent_id === world.operator.id
        ? null
        : [world.reseller, world.subReseller, world.otherReseller].find((r) => r.id === customer.parent_id);
    return buildDid(db, {
      status: 'assigned',
      owner_account_id: reseller?.id ?? null,
      assigned_account_id: customer.id,
      destination_type: 'sip',
      destination: 'sip:reception@pbx.acme.example',
      ...overrides,
    });
  };
  /** Call transfer settings written as they are stored (the rules of changing them are tested elsewhere). */
  const transfer = (did: Did, values: Omit<Insertable<CallTransfersTable>, 'did_id'>) =>
    db
      .insertInto('call_transfers')
      .values({ did_id: did.id, ...values })
      .execute();
  return { ...world, admin, token, assigned, transfer };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The number as it goes in a URL path: + must be encoded or a proxy may read it as a space. */
export const path = (number: string) => `/api/v1/routing/${encodeURIComponent(number)}`;

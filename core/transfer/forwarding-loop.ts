// Finds forwarding loops through our own numbers before they are made: a number whose transfer leads, via
// other DIDs of ours (their enabled transfers and their primary PSTN destinations), back to itself would
// bounce a call between our numbers until the switch gives up.
import { sql } from 'kysely';
import type { Executor } from '../context.ts';
import { DESTINATION_COLUMN, TRANSFER_CONDITIONS } from './transfer-destination.ts';

/**
 * Walks are serialised by one transaction-level advisory lock: two people closing a loop from both ends at
 * once would each see the other's old settings and both succeed. Taken after the DID row lock, and held by
 * a transaction that locks no further DID rows, so it cannot deadlock with another transfer change.
 */
const TRANSFER_GRAPH_LOCK = sql`hashtext('didops:call-transfer-graph')`;

/** Far more numbers than any real chain has; the visited set already ends the walk, this bounds its cost. */
const MAX_VISITED = 10_000;

/**
 * The loop the given first hops of `origin` would close, as the numbers called in turn (origin first and
 * last), or null when calls never come back to `origin`. Hops that are not our numbers end there.
 */
export async function findForwardingLoop(
  db: Executor,
  origin: string,
  firstHops: readonly string[],
): Promise<string[] | null> {
  const hops = [...new Set(firstHops)].filter((hop) => hop.startsWith('+'));
  if (hops.length === 0) return null;
  if (hops.includes(origin)) return [origin, origin];
  await sql`SELECT pg_advisory_xact_lock(${TRANSFER_GRAPH_LOCK})`.execute(db);

  const cameFrom = new Map<string, string>(hops.map((hop) => [hop, origin]));
  const visited = new Set<string>([origin, ...hops]);
  let frontier = hops;
  while (frontier.length > 0 && visited.size <= MAX_VISITED) {
    const rows = await db
      .selectFrom('dids')
      .leftJoin('call_transfers', 'call_transfers.did_id', 'dids.id')
      .select([
        'dids.number',
        'dids.destination_type',
        'dids.destination',
        'call_transfers.enabled',
        ...TRANSFER_CONDITIONS.map((c) => `call_transfers.${DESTINATION_COLUMN[c]}` as const),
      ])
      .where(sql<boolean>`dids.number = any(${frontier}::text[])`)
      .orderBy('dids.number')
      .execute();
    const next: string[] = [];
    for (const row of rows) {
      const onward: (string | null)[] = row.destination_type === 'pstn' ? [row.destination] : [];
      if (row.enabled) onward.push(...TRANSFER_CONDITIONS.map((c) => row[DESTINATION_COLUMN[c]]));
      for (const target of onward) {
        if (target === null || !target.startsWith('+')) continue;
        if (target === origin) return [...pathTo(row.number, origin, cameFrom), origin];
        if (visited.has(target)) continue;
        visited.add(target);
        cameFrom.set(target, row.number);
        next.push(target);
      }
    }
    frontier = next;
  }
  return null;
}

function pathTo(number: string, origin: string, cameFrom: ReadonlyMap<string, string>): string[] {
  const path = [number];
  for (let at = number; at !== origin;) {
    at = cameFrom.get(at) ?? origin;
    path.unshift(at);
  }
  return path;
}

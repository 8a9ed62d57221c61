// What each role may do. Roles grade power (viewer < operator < admin < owner); the account kind decides
// how far it reaches: the operator's staff see everything, a reseller its own subtree, a customer itself.
import type { UserRole } from '../db/schema.ts';
import { forbidden } from '../shared/errors.ts';
import type { Actor } from './actor.ts';

export type Permission =
  | 'inventory.read'
  | 'inventory.write'
  | 'catalog.write'
  | 'accounts.read'
  | 'accounts.write'
  | 'users.write'
  | 'transfer.write'
  | 'billing.buy'
  | 'billing.write';

const RANK: Readonly<Record<UserRole, number>> = { viewer: 0, operator: 1, admin: 2, owner: 3 };

const MINIMUM_ROLE: Readonly<Record<Permission, UserRole>> = {
  'inventory.read': 'viewer',
  'accounts.read': 'viewer',
  'inventory.write': 'operator',
  'catalog.write': 'admin',
  'accounts.write': 'admin',
  'users.write': 'admin',
  'transfer.write': 'operator',
  'billing.buy': 'operator',
  'billing.write': 'admin',
};

const WHAT: Readonly<Record<Permission, string>> = {
  'inventory.read': 'look up numbers',
  'accounts.read': 'look up accounts',
  'inventory.write': 'change numbers',
  'catalog.write': 'change providers, groups and pricing batches',
  'accounts.write': 'create or change accounts',
  'users.write': 'create or change users',
  'transfer.write': 'change call transfer',
  'billing.buy': 'buy numbers or cancel them',
  'billing.write': 'record payments or change prices',
};

/**
 * What a customer's own users may do: look, and manage call transfer on the numbers they use (seed 002).
 * Everything else is staff work, for the operator or a reseller.
 */
const CUSTOMER_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>([
  'inventory.read',
  'accounts.read',
  'transfer.write',
  'billing.buy',
]);

export function can(actor: Actor, permission: Permission): boolean {
  if (actor.accountKind === 'customer' && !CUSTOMER_PERMISSIONS.has(permission)) return false;
  return RANK[actor.role] >= RANK[MINIMUM_ROLE[permission]];
}

export function requirePermission(actor: Actor, permission: Permission): void {
  if (can(actor, permission)) return;
  const needed =
    actor.accountKind === 'customer' && !CUSTOMER_PERMISSIONS.has(permission)
      ? 'staff'
      : `${MINIMUM_ROLE[permission]} or above`;
  throw forbidden(`Your role (${actor.role}) cannot ${WHAT[permission]}.`, {
    help: `Ask someone with the ${needed} role to do it, or to change your role.`,
  });
}

/** Whether an account (given by its path) lies in the actor's reach. */
export function reaches(actor: Actor, accountPath: string): boolean {
  return accountPath.startsWith(actor.accountPath);
}

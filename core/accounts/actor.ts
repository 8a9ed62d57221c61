// Who is asking, through which channel. Every use case takes one and checks what it may do.
import type { AccountKind, Channel, UserRole } from '../db/schema.ts';

export interface Actor {
  /** The user, or null for the system itself and the operator's shell (CLI). */
  readonly userId: number | null;
  readonly accountId: number;
  readonly accountKind: AccountKind;
  /** Materialized path of the actor's account, e.g. /1/4/: its subtree is every path starting with it. */
  readonly accountPath: string;
  readonly role: UserRole;
  readonly channel: Channel;
  /** How the audit trail names the actor: "cli:root", "slack:U024BE7LH", "alice@example.com". */
  readonly label: string;
}

export function isOperatorStaff(actor: Actor): boolean {
  return actor.accountKind === 'admin';
}

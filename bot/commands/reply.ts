// A channel-neutral reply: what a command has to say, as blocks each channel renders its own way (plain
// text for the CLI, Block Kit for Slack, HTML for Telegram).

/**
 * A button under a reply. It carries the number and the version the number had when the button was drawn,
 * so a click on a stale button (the number changed since) is refused instead of acting on old facts.
 */
export interface Action {
  readonly kind: 'assign' | 'release' | 'transfer';
  readonly label: string;
  readonly number: string;
  readonly version: number;
  readonly style?: 'primary' | 'danger';
  /** Ask before doing it. */
  readonly confirm?: { readonly title: string; readonly text: string; readonly yes: string };
}

export type Block =
  | { readonly type: 'heading'; readonly text: string }
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'fields'; readonly pairs: readonly (readonly [string, string])[] }
  | {
      readonly type: 'table';
      readonly columns: readonly string[];
      readonly rows: readonly (readonly string[])[];
      /** Buttons per row (same index as rows), for channels that can show them. */
      readonly rowActions?: readonly (readonly Action[])[];
    }
  | { readonly type: 'actions'; readonly actions: readonly Action[] }
  | { readonly type: 'list'; readonly items: readonly string[] }
  /** A command the user may want to run next, shown as code. */
  | { readonly type: 'hint'; readonly text: string };

export interface Reply {
  /** false when the command was refused or failed: the CLI exits non-zero, chats show it as an error. */
  readonly ok: boolean;
  /** For the CLI's exit code; 0 when ok. */
  readonly exitCode: number;
  readonly blocks: readonly Block[];
  /**
   * What the command changed, as one line for an audit channel ("assigned +1 866 555 0100 to acme");
   * absent when it changed nothing.
   */
  readonly effect?: string;
}

export const reply = (...blocks: Block[]): Reply => ({ ok: true, exitCode: 0, blocks });

export const failure = (exitCode: number, ...blocks: Block[]): Reply => ({ ok: false, exitCode, blocks });

/** The same reply, recording what changed (nothing when `effect` is undefined). */
export const withEffect = (r: Reply, effect: string | undefined): Reply => (effect ? { ...r, effect } : r);

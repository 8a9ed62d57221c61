// The operator's console: `npm run did -- <command>`. Same grammar as Slack and Telegram (bot/commands),
// plus the commands that need the server's files or bootstrap the system. Output is for a terminal;
// errors are one clear line on stderr and a non-zero exit code that says what kind of error it was.
import { createReadStream, createWriteStream, existsSync, openSync, type WriteStream } from 'node:fs';
import { userInfo } from 'node:os';
import { finished } from 'node:stream/promises';
import { createOperatorAccount } from '../../core/accounts/accounts.ts';
import { operatorActor } from '../../core/accounts/users.ts';
import { ConfigError, loadConfig } from '../../core/config.ts';
import type { Ctx } from '../../core/context.ts';
import { openDatabase, type OpenedDatabase } from '../../core/runtime/database.ts';
import { createLogger } from '../../core/runtime/logger.ts';
import { systemClock } from '../../core/shared/clock.ts';
import { invalid } from '../../core/shared/errors.ts';
import { replyForError, replyForUsage } from '../commands/error-reply.ts';
import { executeCommand, help, type ConsoleIo } from '../commands/execute.ts';
import { parseCommand } from '../commands/parse.ts';
import type { Reply } from '../commands/reply.ts';
import { renderText } from '../commands/render-text.ts';

function print(reply: Reply): void {
  const text = renderText(reply);
  if (text) (reply.ok ? process.stdout : process.stderr).write(text + '\n');
}

/** Files `export file=` writes: closed, and so flushed, before the process exits. */
const outputFiles: WriteStream[] = [];

const io: ConsoleIo = {
  openInput(file) {
    if (!existsSync(file))
      throw invalid(`There is no file ${file}.`, { help: 'Give the path of a CSV file.' });
    return createReadStream(file);
  },
  openOutput(file) {
    if (!file) return process.stdout;
    // Opened here, synchronously, so a path that cannot be written is a clear error, not a crash later.
    let fd: number;
    try {
      fd = openSync(file, 'w');
    } catch (error) {
      const reason = error instanceof Error ? error.message.replace(/, open '.*'$/, '') : String(error);
      throw invalid(`Cannot write ${file}: ${reason}.`, {
        help: 'Give a file in a folder you can write to.',
      });
    }
    const output = createWriteStream(file, { fd });
    outputFiles.push(output);
    return output;
  },
  progress(text) {
    // On a terminal, one line rewritten in place; in a log, one line per step.
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${text}`);
    else process.stderr.write(text + '\n');
  },
};

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCommand(argv, 'cli');
  if (!parsed.ok) {
    print(
      replyForUsage(
        parsed.message,
        parsed.usage ? `npm run did -- ${parsed.usage.replace(/^npm run did -- /, '')}` : undefined,
      ),
    );
    return 2;
  }
  if (parsed.command.name === 'help') {
    print(help(parsed.command.topic, 'cli'));
    return 0;
  }

  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(error.message + '\n');
      return 1;
    }
    throw error;
  }
  // The console's own output is the answer; logs go to stderr and only when something is wrong.
  const log = createLogger({ level: 'warn', write: (line) => process.stderr.write(line + '\n') });
  let database: OpenedDatabase | undefined;
  try {
    database = await openDatabase(config, log, { applicationName: 'didops-cli', maxConnections: 4 });
    const db = database.db;
    const command = parsed.command;
    if (command.name === 'init') {
      const account = await createOperatorAccount(db, { slug: command.slug, name: command.operatorName });
      print({
        ok: true,
        exitCode: 0,
        blocks: [
          {
            type: 'text',
            text: `✓ Created the operator account ${account.slug}. Next: add a provider, a pricing batch and numbers (npm run did -- help).`,
          },
        ],
      });
      return 0;
    }
    const ctx: Ctx = {
      db,
      actor: await operatorActor(db, 'cli', userInfo().username),
      clock: systemClock,
      settings: { didAgingDays: config.didAgingDays },
    };
    const reply = await executeCommand(ctx, command, { channel: 'cli', io });
    for (const output of outputFiles) {
      output.end();
      await finished(output);
    }
    if (process.stderr.isTTY && command.name === 'import') process.stderr.write('\n');
    print(reply);
    return reply.exitCode;
  } catch (error) {
    try {
      const reply = replyForError(error);
      print(reply);
      return reply.exitCode;
    } catch {
      process.stderr.write(`✗ Unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
  } finally {
    await database?.close();
  }
}

// `npm run did -- export | head`: the reader closing the pipe early is a normal way to stop, not a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

// Exit explicitly: the embedded PostgreSQL package hooks process exit and would report 0 for any failure.
// First let stdout and stderr drain: process.exit() drops what is still queued for a pipe.
const exitCode = await main(process.argv.slice(2));
await Promise.all(
  [process.stdout, process.stderr].map(
    (stream) => new Promise<void>((resolve) => stream.write('', () => resolve())),
  ),
);
process.exit(exitCode);

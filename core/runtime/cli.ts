// Small helpers the bin/ entry points share: reading the configuration the way every process must (list
// every problem, exit 1), and turning an error into the one line a person at a terminal needs.
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { isDomainError } from '../shared/errors.ts';
import { maskUrls } from './logger.ts';

/** Parses the environment; on a bad one prints every problem to stderr and exits 1. */
export function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nFix the environment (see .env.example) and start again.\n`);
      process.exit(1);
    }
    throw error;
  }
}

/** An error as a person should read it: message, help and causes, never a stack; passwords masked. */
export function explain(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    if (isDomainError(current)) {
      parts.push(current.fullMessage);
    } else if (current instanceof Error) {
      const code = (current as NodeJS.ErrnoException).code;
      const text = current.message || code || current.name;
      if (!parts.some((p) => p.includes(text))) parts.push(text);
    } else {
      parts.push(typeof current === 'string' ? current : JSON.stringify(current));
    }
    current = current instanceof Error ? current.cause : undefined;
  }
  return maskUrls(parts.join('\n  cause: '));
}

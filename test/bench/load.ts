// What the HTTP benchmarks share: driving a server with autocannon, summarising a run, and talking to the
// child process that serves the app (so the load generator never shares the server's event loop).
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import autocannon from 'autocannon';

export interface LoadResult {
  readonly label: string;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly latency: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  };
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  /** Mean response size, bytes. */
  readonly bytesPerResponse: number;
}

export function load(
  url: string,
  connections: number,
  duration: number,
  extra: Partial<autocannon.Options> = {},
): Promise<autocannon.Result> {
  return autocannon({ url, connections, duration, timeout: 10, ...extra });
}

export function summarize(label: string, r: autocannon.Result): LoadResult {
  return {
    label,
    requests: r.requests.total,
    requestsPerSecond: r.requests.total / r.duration,
    latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    bytesPerResponse: r.throughput.total / Math.max(1, r.requests.total),
  };
}

/** Sends the child a question and waits for its answer. */
export async function ask(child: ChildProcess, question: 'stats' | 'reset-stats'): Promise<unknown> {
  child.send({ kind: question });
  const [answer] = (await once(child, 'message')) as [{ kind: string; value: unknown }];
  return answer.value;
}

/** Asks the child to stop and waits for it to exit. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.send({ kind: 'stop' });
  await once(child, 'exit');
}

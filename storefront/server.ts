// The HTTP listener of the web role, and its graceful close: stop accepting connections, let requests in
// progress finish (bounded), close idle keep-alive connections so they do not hold the server open.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/runtime/logger.ts';

export interface WebServer {
  readonly server: Server;
  readonly port: number;
  /** Local URL, for the start-up message. */
  readonly url: string;
  /** Resolves once every connection is closed; after `graceMs`, connections still busy are cut. */
  close(graceMs?: number): Promise<{ forced: boolean }>;
}

export interface ListenOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** All interfaces unless given. */
  readonly host?: string;
  readonly log: Logger;
}

export const DEFAULT_GRACE_MS = 10_000;

export async function startWebServer(app: RequestListener, options: ListenOptions): Promise<WebServer> {
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, options.port));
    server.once('error', onError);
    server.listen({ port: options.port, host: options.host }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // Errors after listening (rare: e.g. EMFILE) must not crash the process unnoticed.
  server.on('error', (error) => options.log.error({ err: error }, 'HTTP server error'));
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<{ forced: boolean }> | undefined;
  return {
    server,
    port,
    url: `http://localhost:${port}`,
    close(graceMs = DEFAULT_GRACE_MS) {
      closing ??= closeGracefully(server, graceMs, options.log);
      return closing;
    },
  };
}

function listenError(error: NodeJS.ErrnoException, port: number): Error {
  if (error.code === 'EADDRINUSE') {
    return new Error(
      `Port ${port} is already in use. Stop the program using it, or set PORT to another port.`,
      {
        cause: error,
      },
    );
  }
  if (error.code === 'EACCES') {
    return new Error(
      `Not allowed to listen on port ${port}. Ports below 1024 need privileges: set PORT to 1024 or above.`,
      {
        cause: error,
      },
    );
  }
  return error;
}

function closeGracefully(server: Server, graceMs: number, log: Logger): Promise<{ forced: boolean }> {
  return new Promise((resolve) => {
    let forced = false;
    // Connections that finish their request become idle keep-alive connections: close them as they do.
    const reaper = setInterval(() => server.closeIdleConnections(), 200);
    const deadline = setTimeout(() => {
      forced = true;
      log.warn({ graceMs }, 'Requests still running after the grace period: closing their connections');
      server.closeAllConnections();
    }, graceMs);
    server.close(() => {
      clearInterval(reaper);
      clearTimeout(deadline);
      resolve({ forced });
    });
    server.closeIdleConnections();
  });
}

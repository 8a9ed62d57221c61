import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../core/runtime/logger.ts';
import { startWebServer } from '../../../storefront/server.ts';

describe('web server close', () => {
  it('lets a request in progress finish, then refuses new connections', async () => {
    const web = await startWebServer(
      (_req, res) => {
        setTimeout(() => res.end('done'), 300);
      },
      { port: 0, host: '127.0.0.1', log: silentLogger },
    );
    const base = `http://127.0.0.1:${web.port}`;
    const inFlight = fetch(`${base}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = web.close(5_000);
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('done');
    expect(await closed).toEqual({ forced: false });
    await expect(fetch(`${base}/again`)).rejects.toThrow();
  });

  it('cuts requests that outlast the grace period', async () => {
    const web = await startWebServer(() => {}, { port: 0, host: '127.0.0.1', log: silentLogger });
    const hanging = fetch(`http://127.0.0.1:${web.port}/never`).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    expect(await web.close(200)).toEqual({ forced: true });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await hanging).toBeInstanceOf(Error);
  });

  it('says which port is taken', async () => {
    const first = await startWebServer(() => {}, { port: 0, host: '127.0.0.1', log: silentLogger });
    await expect(
      startWebServer(() => {}, { port: first.port, host: '127.0.0.1', log: silentLogger }),
    ).rejects.toThrow(`Port ${first.port} is already in use`);
    await first.close(100);
  });
});

// Starts didops: `node bin/start.ts [web|worker|bot|all]` (`npm start` = all). Every role shares this
// entry: read the configuration, open (and migrate) the database, load demo data into a fresh embedded
// one, then start the web listener, the worker and/or the chat bots that hold a connection (Slack Socket
// Mode, Telegram long polling). SIGTERM / SIGINT stop it cleanly; a second signal at once.
import { configOrExit, explain } from '../core/runtime/cli.ts';
import { openDatabase } from '../core/runtime/database.ts';
import { loadDemoDataIfEmpty } from '../core/runtime/demo.ts';
import { createLogger } from '../core/runtime/logger.ts';
import { handleShutdownSignals } from '../core/runtime/shutdown.ts';
import { startJobs } from '../core/runtime/jobs.ts';
import { systemClock } from '../core/shared/clock.ts';
import { createChatBots } from '../bot/chat-bots.ts';
import { notificationChannels } from '../bot/notifications/notification-channels.ts';
import { createWebApp } from '../storefront/app.ts';
import { createOpsApp } from '../storefront/routes/ops.ts';
import { startWebServer } from '../storefront/server.ts';

const ROLES = ['web', 'worker', 'bot', 'all'] as const;
type Role = (typeof ROLES)[number];

// SIGTERM: the web listener stops taking connections and lets requests in flight finish (WEB_GRACE_MS),
// then the queue stops (running jobs finish within DEFAULT_STOP_GRACE_MS or go back to the queue, ~5 s
// more), then the database closes: about 24 s at worst, inside SHUTDOWN_TIMEOUT_MS, itself inside the
// 30 s docker-compose.yml gives (stop_grace_period) before SIGKILL.
const WEB_GRACE_MS = 10_000;
const SHUTDOWN_TIMEOUT_MS = 28_000;

function parseRole(args: readonly string[]): Role {
  const [role = 'all', ...rest] = args;
  if ((ROLES as readonly string[]).includes(role) && rest.length === 0) return role as Role;
  process.stderr.write(
    `Usage: node bin/start.ts [web|worker|bot|all]\n` +
      `  web     storefront, webhooks, the Slack endpoint and APIs on PORT\n` +
      `  worker  jobs: renewals, dunning, holds, notifications, sweeps\n` +
      `  bot     Slack Socket Mode and Telegram long polling (run exactly one)\n` +
      `  all     everything in one process (default; what \`npm start\` runs)\n` +
      `Unknown arguments: ${args.join(' ')}\n`,
  );
  process.exit(1);
}

const role = parseRole(process.argv.slice(2));
const config = configOrExit();
const log = createLogger({ level: config.logLevel });
const shutdown = handleShutdownSignals({ log, timeoutMs: SHUTDOWN_TIMEOUT_MS });
const started = Date.now();

try {
  log.info({ role, env: config.env }, 'Starting didops');
  const database = await openDatabase(config, log, { applicationName: `didops-${role}` });
  shutdown.add('database', () => database.close());
  await shutdown.checkpoint();

  if (database.embedded) await loadDemoDataIfEmpty(database.db, log);
  await shutdown.checkpoint();

  // Every role enqueues (webhooks, checkouts); the worker role also handles jobs and keeps the schedules.
  const jobs = await startJobs({
    config,
    db: database.db,
    databaseUrl: database.url,
    log,
    clock: systemClock,
    work: role === 'worker' || role === 'all',
    channels: notificationChannels(database.db, config, log),
  });
  shutdown.add('jobs', () => jobs.stop());
  await shutdown.checkpoint();

  // Without the web role there is no listener: METRICS_PORT gives this process probes and /metrics.
  if (role !== 'web' && role !== 'all' && config.metrics.port !== undefined) {
    const opsLog = log.child({ role: 'ops' });
    const ops = await startWebServer(
      createOpsApp({ db: database.db, queue: jobs.queue, log: opsLog, metricsToken: config.metrics.token }),
      { port: config.metrics.port, log: opsLog },
    );
    shutdown.add('metrics listener', () => ops.close(1_000));
    opsLog.info({ url: ops.url }, `Probes and metrics on ${ops.url}`);
  }

  const bots = createChatBots(
    { db: database.db, clock: systemClock, settings: { didAgingDays: config.didAgingDays }, config, log },
    { web: role === 'web' || role === 'all', bot: role === 'bot' || role === 'all' },
  );
  shutdown.add('chat bots', () => bots.stop());

  if (role === 'web' || role === 'all') {
    const webLog = log.child({ role: 'web' });
    const app = createWebApp({
      db: database.db,
      config,
      log: webLog,
      slackRouter: bots.slackRouter,
      telegramWebhook: bots.telegramWebhook,
      jobs,
    });
    const web = await startWebServer(app, { port: config.port, log: webLog });
    shutdown.add('web', async () => {
      const { forced } = await web.close(WEB_GRACE_MS);
      webLog.info({ forced }, 'HTTP listener closed');
    });
    webLog.info({ url: web.url, publicUrl: config.publicUrl }, `Listening on ${web.url}`);
  }

  await bots.start();
  if (bots.running.length) log.info({ bots: bots.running }, `Chat: ${bots.running.join(', ')}`);

  log.info({ role, ms: Date.now() - started, embeddedDatabase: database.embedded }, 'didops is running');
  await shutdown.started();
} catch (error) {
  log.fatal({ err: error }, 'didops could not start');
  process.stderr.write(`didops could not start: ${explain(error)}\n`);
  await shutdown.exit(1);
}

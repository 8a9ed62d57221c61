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
import { startWebServer } from '../storefront/server.ts';

const ROLES = ['web', 'worker', 'bot', 'all'] as const;
type Role = (typeof ROLES)[number];

const WEB_GRACE_MS = 10_000;

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
const shutdown = handleShutdownSignals({ log });
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

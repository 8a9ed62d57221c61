// Delivers one notice to the account's channels; a channel failure retries the job.
import { deliverNotification } from '../../notifications/notifications.ts';
import { defineJob, idFrom } from '../job-context.ts';

export const deliverNotificationJob = defineJob({
  name: 'deliver-notification',
  attempts: 6,
  backoffMs: 30_000,
  concurrency: 2,
  async run(deps, payload) {
    return deliverNotification(deps.db, deps.channels, idFrom(payload, 'notificationId'), deps.clock.now());
  },
});

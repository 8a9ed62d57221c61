// Runs a confirmed back-office bulk operation or import (core/inventory/bulk-operations.ts) that was too big
// to run while the person waited. The payload is the operation's id; the work and its progress live in
// the bulk_operations row, batch by batch, so a retry (or a second run at the same time) continues after
// the last committed batch. A refusal no retry can cure (the target account was suspended meanwhile, the
// user lost their role) fails the operation at once, with the reason shown on its page.
import { markFailed, runBulkOperation } from '../../inventory/bulk-operations.ts';
import { isDomainError } from '../../shared/errors.ts';
import { defineJob, idFrom } from '../job-context.ts';
import { PermanentJobError } from '../queue.ts';

const ATTEMPTS = 5;

export const bulkOperationJob = defineJob({
  name: 'bulk-operation',
  attempts: ATTEMPTS,
  backoffMs: 5_000,
  concurrency: 2,
  async run(deps, payload, job) {
    const id = idFrom(payload, 'bulkOperationId');
    try {
      const done = await runBulkOperation(deps, id, { signal: job.signal });
      return { status: done.status, changed: done.changed, skipped: done.skipped };
    } catch (error) {
      if (isDomainError(error)) throw new PermanentJobError(error.fullMessage, { cause: error });
      // Out of tries: say so on the operation's page instead of leaving it "running" for ever.
      if (job.attempt >= ATTEMPTS && !job.signal.aborted) {
        await markFailed(
          deps.db,
          id,
          'The job failed several times; see the server log. Nothing after the last completed batch was changed.',
        );
      }
      throw error;
    }
  },
});

// A form's POST calls one core use case. When core refuses, the error translator shows the form's page
// again with the problem next to its field, and that page needs what it shows around the form: this loads
// it then, and only then, so the happy path reads nothing it does not need.
import type { Response } from 'express';
import { DomainError } from '../../core/shared/errors.ts';
import { setFormData } from './errors.ts';

export async function withPageOnError<T>(
  res: Response,
  page: () => Promise<Record<string, unknown>>,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    // Not found and not allowed get the error page, not the form, unless they are about one of its fields.
    const formProblem =
      error instanceof DomainError &&
      (error.field !== undefined || (error.code !== 'not_found' && error.code !== 'forbidden'));
    if (formProblem) {
      // The page may be gone too (the number someone else just bought): the form then shows the error alone.
      const data = await page().catch((pageError: unknown) => {
        if (pageError instanceof DomainError) return null;
        throw pageError;
      });
      if (data) {
        // What was typed comes from the request; the page's saved values must not replace it.
        const around = { ...data };
        delete around.values;
        setFormData(res, around);
      }
    }
    throw error;
  }
}

import { ListwashError } from '../../src/errors.js';

/** The ListwashError a promise rejects with; fails the test if it resolves or rejects with something else. */
export async function rejection(p: Promise<unknown>): Promise<ListwashError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ListwashError) return err;
    throw err;
  }
  throw new Error('did not reject');
}

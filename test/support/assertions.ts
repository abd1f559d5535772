/** Assertions shared by the service tests. */
import assert from 'node:assert/strict';
import { DomainError } from '../../src/shared/errors.ts';

/** Asserts a promise fails with a DomainError of this code; returns the error for further checks. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DomainError, `expected a DomainError, got ${error}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

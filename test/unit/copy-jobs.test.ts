import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { AUTO_COPY_JOBS_MAX, copyJobs } from '../../src/snapshot/plan.js';

describe('copyJobs: tables copied at once', () => {
  test('"auto" is the agent\'s CPU cores, at least 1, at most 8', () => {
    assert.equal(AUTO_COPY_JOBS_MAX, 8);
    assert.equal(copyJobs('auto', 1), 1);
    assert.equal(copyJobs('auto', 2), 2);
    assert.equal(copyJobs('auto', 6), 6);
    assert.equal(copyJobs('auto', 8), 8);
    assert.equal(copyJobs('auto', 64), 8);
    // a platform that reports no cores still copies
    assert.equal(copyJobs('auto', 0), 1);
    assert.equal(copyJobs('auto', Number.NaN), 1);
  });

  test('"auto" on this machine follows os.availableParallelism()', () => {
    assert.equal(copyJobs('auto'), Math.min(8, Math.max(1, availableParallelism())));
  });

  test('a missing option (a source registered before "auto") means "auto"', () => {
    assert.equal(copyJobs(undefined, 4), 4);
    assert.equal(copyJobs(null, 12), 8);
  });

  test('an explicit number is kept, past the cores and past 8 too', () => {
    assert.equal(copyJobs(1, 16), 1);
    assert.equal(copyJobs(2, 1), 2);
    assert.equal(copyJobs(12, 4), 12);
  });
});

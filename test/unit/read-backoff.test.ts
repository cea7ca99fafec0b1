import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../../src/replica/backoff.js';

// on_error_read = continue: the reader's reconnect delays

test('the delay doubles per attempt up to the cap, drawn from the upper half of each step', () => {
  const low = new Backoff({ random: () => 0 });
  const high = new Backoff({ random: () => 0.999999 });
  const lows = Array.from({ length: 9 }, () => low.next());
  const highs = Array.from({ length: 9 }, () => high.next());
  assert.deepEqual(lows, [250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  assert.deepEqual(highs, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.equal(low.attempt, 9);
});

test('jittered delays stay inside their step, each at least the one before until the cap', () => {
  const b = new Backoff();
  let previous = 0;
  for (let attempt = 1; attempt <= 40; attempt++) {
    const ceiling = Math.min(30_000, 500 * 2 ** (attempt - 1));
    const d = b.next();
    assert.ok(d >= ceiling / 2 && d <= ceiling, `attempt ${attempt}: ${d} within [${ceiling / 2}, ${ceiling}]`);
    if (ceiling < 30_000) assert.ok(d >= previous, `attempt ${attempt}: ${d} after ${previous}`);
    previous = d;
  }
  const spread = new Set(Array.from({ length: 20 }, () => new Backoff().next()));
  assert.ok(spread.size > 5, `first delays vary between replicas: ${[...spread].join(', ')}`);
});

test('reset starts the next outage short again; after days of failures the delay is still the cap', () => {
  const b = new Backoff({ random: () => 0.5 });
  for (let i = 0; i < 5; i++) b.next();
  assert.equal(b.next(), 12000);
  b.reset();
  assert.equal(b.attempt, 0);
  assert.equal(b.next(), 375);
  for (let i = 0; i < 100_000; i++) b.next();
  assert.equal(b.next(), 22500);
});

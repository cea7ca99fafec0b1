import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayPace } from '../../src/replica/replay-pace.js';

function near(actual: number, expected: number, message?: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-6, `${message ?? 'value'}: ${actual}, expected ${expected}`);
}

function clock(): { now: () => number; at: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, at: (ms) => (t = 1_000_000 + ms) };
}

test('with nothing written and waiting, the open batch is written at once', () => {
  const c = clock();
  const pace = new ReplayPace(c.now);
  assert.equal(pace.unapplied, 0);
  assert.equal(pace.growFor(10_000), 0);
});

test('until both paces are measured, a batch grows while the replay works on the ones before it', () => {
  const c = clock();
  const pace = new ReplayPace(c.now);
  pace.wrote(20_000, 100);
  assert.equal(pace.unapplied, 1);
  assert.equal(pace.growFor(5_000), Infinity);
  c.at(300);
  pace.replayed(1);
  assert.equal(pace.unapplied, 0);
  assert.equal(pace.growFor(5_000), 0, 'the replay is idle: write now');
});

test('the open batch is written when its write would end as the replay reaches it', () => {
  const c = clock();
  const pace = new ReplayPace(c.now);
  // measured: writes take 0.005 ms per event, the replay 0.01 ms per event
  pace.wrote(20_000, 100);
  c.at(200);
  pace.replayed(1);
  // batch 2 (20,000 events) committed at 200 ms: its replay should end at 400 ms
  pace.wrote(20_000, 100);
  c.at(250);
  // an open batch of 10,000 events writes in 50 ms: it may grow until 350 ms
  near(pace.growFor(10_000), 100);
  c.at(340);
  assert.equal(pace.growFor(12_000), 0, 'its write, 60 ms now, would end after the replay');
  // two batches waiting: the replay is busy for both
  pace.wrote(12_000, 60);
  assert.equal(pace.unapplied, 2);
  c.at(345);
  near(pace.growFor(4_000), 200 + 32_000 * 0.01 - 4_000 * 0.005 - 345);
});

test('a replay that waited for its batch is timed from the batch, not from the replay before', () => {
  const c = clock();
  const pace = new ReplayPace(c.now);
  pace.wrote(10_000, 50);
  c.at(100);
  pace.replayed(1);
  // quiet: the next batch comes 10 s later and takes 100 ms to replay
  c.at(10_000);
  pace.wrote(10_000, 50);
  c.at(10_100);
  pace.replayed(1);
  c.at(10_200);
  pace.wrote(10_000, 50);
  // 0.01 ms per event, from both replays: ready at 10,300; a 2,000-event write takes 10 ms
  near(pace.growFor(2_000), 10_300 - 10 - 10_200);
});

test('batches applied that another reader wrote are not counted', () => {
  const c = clock();
  const pace = new ReplayPace(c.now);
  pace.wrote(1_000, 10);
  pace.replayed(3);
  assert.equal(pace.unapplied, 0);
  assert.equal(pace.growFor(1_000), 0);
});

/**
 * When the replay will be ready for the reader's next batch. While written
 * batches wait for the replay, the open batch grows rather than being
 * written behind them: a batch of 3,000 events costs the decoder twice as
 * much per event as one of 25,000. But a batch written only once the
 * replay is done leaves the replay idle for the whole write, and the log's
 * COPY and the decoder never run side by side. So the open batch is
 * written when its write, at the pace writes have had, would end as the
 * replay of the batches before it ends, at the pace the replay has had.
 */

/** Weight of the newest measurement in the running paces. */
const WEIGHT = 0.3;
/** Batches this small say more about fixed costs than about a pace. */
const MIN_EVENTS = 500;

interface Written {
  events: number;
  /** When its write committed (ms). */
  at: number;
}

export class ReplayPace {
  private readonly written: Written[] = [];
  private lastReplayedAt = 0;
  /** Milliseconds per event, once measured. */
  private replayMs: number | null = null;
  private writeMs: number | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  /** Written batches the replay has not applied yet. */
  get unapplied(): number {
    return this.written.length;
  }

  /** A batch of this reader committed; its write took `ms` milliseconds of its own. */
  wrote(events: number, ms: number): void {
    this.written.push({ events, at: this.now() });
    if (events >= MIN_EVENTS) this.writeMs = mix(this.writeMs, ms / events);
  }

  /** The replay applied the oldest `batches` batches (ones this reader did not write are not counted). */
  replayed(batches: number): void {
    const now = this.now();
    const done = this.written.splice(0, batches);
    if (done.length > 0) {
      // its work began when the first of them was there and the replay free for it
      const began = Math.max(done[0].at, this.lastReplayedAt);
      const events = done.reduce((n, b) => n + b.events, 0);
      if (events >= MIN_EVENTS && now > began) this.replayMs = mix(this.replayMs, (now - began) / events);
    }
    this.lastReplayedAt = now;
  }

  /**
   * Milliseconds the open batch of `events` events may still grow before it
   * should be written; 0 to write it now, and Infinity while the paces are
   * not known yet (it then grows until the replay is done with the others).
   */
  growFor(events: number): number {
    if (this.written.length === 0) return 0;
    if (this.replayMs === null || this.writeMs === null) return Infinity;
    const began = Math.max(this.written[0].at, this.lastReplayedAt);
    const pending = this.written.reduce((n, b) => n + b.events, 0);
    const replayDone = began + pending * this.replayMs;
    return Math.max(0, replayDone - events * this.writeMs - this.now());
  }
}

function mix(old: number | null, value: number): number {
  return old === null ? value : old + WEIGHT * (value - old);
}

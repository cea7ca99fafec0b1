import type pg from 'pg';
import type { Logger } from '../log.js';
import { recordReplayError, replayNext } from '../catalog/batches.js';
import { isTransient } from '../errors.js';

export interface ReplayerOptions {
  pool: pg.Pool;
  sourceId: string;
  agentId: string;
  sleepLoopSeconds: number;
  log: Logger;
  onError(err: unknown): void;
  /** Called after each decoder call that applied batches, with their number. */
  onReplayed?(batches: number): void;
}

/** Calls the decoder until no batch is left, then waits for the reader or sleep_loop. */
export class SourceReplayer {
  private running = false;
  private wakeUp: (() => void) | null = null;
  private pendingWake = false;
  private loop: Promise<void> | null = null;
  private holds = 0;
  private inFlight: Promise<unknown> | null = null;

  constructor(private readonly opts: ReplayerOptions) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Running, and no hold in place: decoder calls follow each other. */
  get applying(): boolean {
    return this.running && this.holds === 0;
  }

  wake(): void {
    this.pendingWake = true;
    this.wakeUp?.();
  }

  /**
   * Holds the replay: resolves once no decoder call is in flight, and none
   * starts until the returned release is called. A table re-copied while the
   * replica runs needs this from its snapshot to its swap: a batch applied
   * meanwhile would change the old table and leave the new one without it.
   */
  async hold(): Promise<() => void> {
    this.holds++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.holds === 0) this.wake();
    };
    await this.inFlight?.catch(() => undefined);
    return release;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      if (this.holds > 0) {
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
          setTimeout(resolve, this.opts.sleepLoopSeconds * 1000);
        });
        this.wakeUp = null;
        continue;
      }
      try {
        this.pendingWake = false;
        const call = replayNext(this.opts.pool, this.opts.sourceId, this.opts.agentId);
        this.inFlight = call;
        const r = await call.finally(() => (this.inFlight = null));
        failures = 0;
        if (r.batches > 0) {
          this.opts.onReplayed?.(r.batches);
          this.opts.log.debug({ batches: r.batches, applied: r.applied, skipped: r.skipped }, 'batches replayed');
          continue;
        }
      } catch (err) {
        if (isTransient(err) && failures < 20) {
          failures++;
          const delay = Math.min(10_000, 100 * 2 ** failures);
          this.opts.log.warn({ err, delay }, 'replay failed, retrying');
          await new Promise((r) => setTimeout(r, delay));
          continue;
        }
        this.running = false;
        const e = err as { message?: string; detail?: string; code?: string };
        if (/^replay of /.test(e.message ?? '')) {
          // on_error_replay = exit: the decoder's transaction rolled back, keep its report apart
          await recordReplayError(this.opts.pool, this.opts.sourceId, e.message!, e.detail ?? null, e.code ?? null).catch(() => undefined);
        }
        this.opts.onError(err);
        return;
      }
      if (this.pendingWake) continue;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        setTimeout(resolve, this.opts.sleepLoopSeconds * 1000);
      });
      this.wakeUp = null;
    }
  }
}

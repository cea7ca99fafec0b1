export interface BackoffOptions {
  /** Ceiling of the first delay, in ms; each further attempt doubles it. */
  baseMs?: number;
  /** Ceiling no delay goes past, in ms. */
  capMs?: number;
  /** [0, 1); replaceable so that tests can pin the jitter. */
  random?: () => number;
}

/**
 * Delays between reconnect attempts: a ceiling that doubles per attempt up
 * to a cap, the delay drawn from its upper half. The jitter keeps replicas
 * cut off together (a MySQL restart) from all knocking at the same
 * instant; the upper half keeps every delay longer than the previous
 * step's shortest, so a server that keeps refusing sees fewer and fewer
 * attempts. reset() once a connection has proved itself, so that the next
 * outage starts short again.
 */
export class Backoff {
  private attempts = 0;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? 500;
    this.capMs = opts.capMs ?? 30_000;
    this.random = opts.random ?? Math.random;
  }

  /** Attempts since the last reset. */
  get attempt(): number {
    return this.attempts;
  }

  /** The delay before the next attempt, which it counts. */
  next(): number {
    this.attempts++;
    // the exponent is bounded so that 2 ** n stays finite after days of failures
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempts - 1, 30));
    return Math.round(ceiling / 2 + (ceiling / 2) * this.random());
  }

  reset(): void {
    this.attempts = 0;
  }
}

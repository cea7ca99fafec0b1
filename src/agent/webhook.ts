import type { Logger } from '../log.js';

/** Attempts per alert, and the first wait between two (doubled each time). */
const ATTEMPTS = 4;
const FIRST_WAIT_MS = 500;
const TIMEOUT_MS = 5000;

/**
 * Posts each alert (the JSON of a chameleon_alerts notification) to an HTTP
 * webhook, one at a time in the order they came. A network error, a
 * timeout or a 5xx/429 answer is tried again with backoff, a few times; any
 * other answer, or the last failure, is logged (the URL without its
 * password) and the alert dropped: the alert is also in show_errors() and
 * on the PostgreSQL channel.
 */
export class AlertWebhook {
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly url: string,
    private readonly log: Logger,
    private readonly maxPending = 1000,
  ) {}

  post(alert: Record<string, unknown>): void {
    if (this.pending >= this.maxPending) {
      this.log.warn({ source: alert.source }, 'webhook backlog full: alert not posted');
      return;
    }
    this.pending++;
    this.queue = this.queue.then(() => this.send(alert)).finally(() => this.pending--);
  }

  /** Resolves once every alert posted so far was sent or given up. */
  async drain(): Promise<void> {
    await this.queue;
  }

  private async send(alert: Record<string, unknown>): Promise<void> {
    const body = JSON.stringify({ ...alert, at: new Date().toISOString() });
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      let retry: boolean;
      let reason: string;
      try {
        const res = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        retry = res.status >= 500 || res.status === 429;
        reason = `HTTP ${res.status}`;
      } catch (err) {
        retry = true;
        reason = (err as Error).message;
      }
      if (!retry || attempt === ATTEMPTS) {
        // the origin only: a webhook's path or query often is its secret (a token)
        this.log.warn({ webhook: originOf(this.url), source: alert.source, attempts: attempt, reason }, 'alert not delivered to the webhook');
        return;
      }
      await new Promise((r) => setTimeout(r, FIRST_WAIT_MS * 2 ** (attempt - 1)));
    }
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(the webhook)';
  }
}

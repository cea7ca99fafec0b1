import pgListen, { type Subscriber } from 'pg-listen';
import type { Logger } from '../log.js';

import { ALERT_CHANNEL } from './alerts.js';

export const COMMAND_CHANNEL = 'chameleon_commands';

export interface CommandListener {
  close(): Promise<void>;
}

/**
 * LISTEN on a dedicated connection. A notification only wakes the agent; the
 * table is the queue, so every (re)connect triggers a full scan too.
 */
export async function listenForCommands(
  url: string,
  log: Logger,
  onWake: (reason: string) => void,
  onAlert?: (alert: Record<string, unknown>) => void,
): Promise<CommandListener> {
  // pg-listen is CommonJS with a default export
  const createSubscriber = ((pgListen as unknown as { default?: typeof pgListen }).default ?? pgListen) as unknown as (
    ...args: unknown[]
  ) => Subscriber;
  const subscriber: Subscriber = createSubscriber(
    { connectionString: url, application_name: 'chameleon listen', keepAlive: true },
    // retryTimeout 0 = never give up reconnecting (the default stops after 3 s, for good)
    { retryTimeout: 0, retryInterval: (attempt: number) => Math.min(5000, 100 * 2 ** attempt), paranoidChecking: 10_000 },
  );
  subscriber.notifications.on(COMMAND_CHANNEL, () => onWake('notify'));
  subscriber.events.on('connected', () => onWake('connected'));
  subscriber.events.on('reconnect', (attempt: number) => log.warn({ attempt }, 'LISTEN connection lost, reconnecting'));
  subscriber.events.on('error', (err: Error) => log.error({ err }, 'LISTEN connection error'));
  await subscriber.connect();
  await subscriber.listenTo(COMMAND_CHANNEL);
  if (onAlert) {
    // pg-listen hands the payload JSON-parsed
    subscriber.notifications.on(ALERT_CHANNEL, (payload: unknown) => {
      if (payload !== null && typeof payload === 'object') onAlert(payload as Record<string, unknown>);
    });
    await subscriber.listenTo(ALERT_CHANNEL);
  }
  return {
    async close() {
      await subscriber.close().catch(() => undefined);
    },
  };
}

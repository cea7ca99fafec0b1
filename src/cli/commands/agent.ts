import { resolvePgUrl, type ParsedArgs } from '../../config/resolve.js';
import { createLogger } from '../../log.js';
import { ChameleonError, ErrorCodes } from '../../errors.js';
import type { CliCommand } from './index.js';

/** --webhook / CHAMELEON_WEBHOOK_URL: an http(s) URL. */
function webhookOf(value: string | true | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const text = String(value);
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new ChameleonError(ErrorCodes.CONFIG, '--webhook (or CHAMELEON_WEBHOOK_URL) is not a valid URL', { flag: 'webhook' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ChameleonError(ErrorCodes.CONFIG, `--webhook (or CHAMELEON_WEBHOOK_URL) must be an http:// or https:// URL, got ${u.protocol}`, { flag: 'webhook' });
  }
  return text;
}

/** --metrics-port / CHAMELEON_METRICS_PORT: 1 to 65535. */
function portOf(value: string | true | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!/^[0-9]+$/.test(String(value)) || n < 1 || n > 65535) {
    throw new ChameleonError(ErrorCodes.CONFIG, `--metrics-port (or CHAMELEON_METRICS_PORT) must be a port from 1 to 65535, got ${JSON.stringify(value)}`, { flag: 'metrics-port' });
  }
  return n;
}

export const agentCommand: CliCommand = {
  summary: 'run the agent until SIGINT/SIGTERM',
  usage: '--pg URL [--pretty] [--lease-seconds N] [--webhook URL] [--metrics-port N]',
  flags: {
    pg: { kind: 'text' }, pretty: { kind: 'boolean' }, 'lease-seconds': { kind: 'integer' },
    webhook: { kind: 'text' }, 'metrics-port': { kind: 'integer' },
  },
  async run(args: ParsedArgs) {
    const url = resolvePgUrl(args.flags.get('pg'));
    const webhookUrl = webhookOf(args.flags.get('webhook') ?? process.env.CHAMELEON_WEBHOOK_URL);
    const metricsPort = portOf(args.flags.get('metrics-port') ?? process.env.CHAMELEON_METRICS_PORT);
    // loaded here, not at the top: every other command, and a refused flag, starts without the agent's modules
    const { Agent } = await import('../../agent/agent.js');
    const log = createLogger({ pretty: args.flags.get('pretty') === true });
    const leaseFlag = args.flags.get('lease-seconds');
    const agent = new Agent({ pgUrl: url, log, leaseSeconds: typeof leaseFlag === 'string' ? Number(leaseFlag) : undefined, webhookUrl, metricsPort });
    await agent.start();
    await new Promise<void>((resolve) => {
      const onSignal = (sig: string): void => {
        log.info({ signal: sig }, 'stopping');
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        void agent.stop().finally(resolve);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    log.flush?.();
    return 0;
  },
};

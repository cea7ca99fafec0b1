import { resolvePgUrl, type ParsedArgs } from '../../config/resolve.js';
import { createLogger } from '../../log.js';
import type { CliCommand } from './index.js';

export const agentCommand: CliCommand = {
  summary: 'run the agent until SIGINT/SIGTERM',
  usage: '--pg URL [--pretty] [--lease-seconds N]',
  flags: { pg: { kind: 'text' }, pretty: { kind: 'boolean' }, 'lease-seconds': { kind: 'integer' } },
  async run(args: ParsedArgs) {
    const url = resolvePgUrl(args.flags.get('pg'));
    // loaded here, not at the top: every other command, and a refused flag, starts without the agent's modules
    const { Agent } = await import('../../agent/agent.js');
    const log = createLogger({ pretty: args.flags.get('pretty') === true });
    const leaseFlag = args.flags.get('lease-seconds');
    const agent = new Agent({ pgUrl: url, log, leaseSeconds: typeof leaseFlag === 'string' ? Number(leaseFlag) : undefined });
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

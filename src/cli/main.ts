import { parseArgs } from '../config/resolve.js';
import { ChameleonError, errorMessage } from '../errors.js';
import { redactText } from '../log.js';
import { commands, usage } from './commands/index.js';

const BOOLEAN_FLAGS = new Set(['pretty', 'help', 'no-wait', 'yes', 'json', 'keep']);

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2), BOOLEAN_FLAGS);
  } catch (err) {
    process.stderr.write(`chameleon: ${errorMessage(err)}\n\n${usage()}`);
    return 2;
  }
  if (!args.command || args.flags.has('help') || args.command === 'help') {
    process.stdout.write(usage());
    return args.command || args.flags.has('help') ? 0 : 2;
  }
  const cmd = commands[args.command];
  if (!cmd) {
    process.stderr.write(`chameleon: unknown command "${args.command}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await cmd.run(args);
  } catch (err) {
    const msg = redactText(errorMessage(err));
    const pgErr = err as { detail?: string; hint?: string };
    process.stderr.write(`chameleon ${args.command}: ${msg}\n${pgErr.detail ? `DETAIL: ${pgErr.detail}\n` : ''}${pgErr.hint ? `HINT: ${pgErr.hint}\n` : ''}`);
    return err instanceof ChameleonError ? 2 : 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`chameleon: ${redactText(errorMessage(err))}\n`);
    process.exitCode = 1;
  },
);

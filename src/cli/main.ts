import { parseArgs, type ParsedArgs } from '../config/resolve.js';
import { ChameleonError, errorMessage } from '../errors.js';
import { redactText } from '../log.js';
import { commands, usage } from './commands/index.js';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(usage());
    return 2;
  }
  if (name === 'help' || name === '--help') {
    process.stdout.write(usage());
    return 0;
  }
  if (name.startsWith('-')) {
    // each command has its own flags: the command has to be known before any flag can be checked
    process.stderr.write(`chameleon: the command comes first (chameleon <command> --flag value ...), got ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  const cmd = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!cmd) {
    process.stderr.write(`chameleon: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  let args: ParsedArgs;
  try {
    args = parseArgs(rest, cmd.flags, cmd.positional);
  } catch (err) {
    process.stderr.write(`chameleon ${name}: ${redactText(errorMessage(err))}\nUsage: chameleon ${name} ${cmd.usage}\n`);
    return 2;
  }
  if (args.flags.has('help')) {
    process.stdout.write(`chameleon ${name} ${cmd.usage}\n  ${cmd.summary}\n`);
    return 0;
  }
  try {
    return await cmd.run(args);
  } catch (err) {
    const msg = redactText(errorMessage(err));
    const pgErr = err as { detail?: string; hint?: string };
    process.stderr.write(`chameleon ${name}: ${msg}\n${pgErr.detail ? `DETAIL: ${pgErr.detail}\n` : ''}${pgErr.hint ? `HINT: ${pgErr.hint}\n` : ''}`);
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

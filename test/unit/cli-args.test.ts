import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, resolvePgUrl, type FlagSpecs } from '../../src/config/resolve.js';

const SPECS: FlagSpecs = {
  pg: { kind: 'text' },
  source: { kind: 'text', required: true },
  id: { kind: 'integer' },
  seconds: { kind: 'seconds' },
  options: { kind: 'json-object' },
  json: { kind: 'boolean' },
};

const parsed = (argv: string[]): Record<string, string | true> => Object.fromEntries(parseArgs(argv, SPECS).flags);
const refused = (argv: string[], message: RegExp): void => {
  assert.throws(() => parseArgs(argv, SPECS), (err: Error & { code?: string; context?: Record<string, unknown> }) => {
    assert.match(err.message, message, argv.join(' '));
    assert.equal(err.code, 'CHAMELEON_CONFIG');
    return true;
  });
};

describe('parseArgs: a command\'s own flags, checked before anything runs', () => {
  test('--name value, --name=value, boolean flags, values that start with a dash', () => {
    assert.deepEqual(parsed(['--source', 's', '--id=42', '--json', '--seconds', '0.5', '--options', '{"a": 1}']),
      { source: 's', id: '42', json: true, seconds: '0.5', options: '{"a": 1}' });
    assert.deepEqual(parsed(['--source=--odd', '--pg', '-x']), { source: '--odd', pg: '-x' });
    assert.deepEqual(parsed(['--source=a=b']), { source: 'a=b' });
  });

  test('--help is known everywhere and waives the required flags', () => {
    assert.deepEqual(parsed(['--help']), { help: true });
  });

  test('unknown flags, stray arguments, repeats and missing values name the flag', () => {
    refused(['--source', 's', '--verbose'], /^unknown flag --verbose \(flags: --pg, --source, --id, --seconds, --options, --json\)$/);
    refused(['--source', 's', '--verbose=1'], /^unknown flag --verbose \(/);
    refused(['--source', 's', '-v'], /^unknown flag -v \(/);
    refused(['--source', 's', '--constructor', 'x'], /^unknown flag --constructor \(/);
    refused(['--source', 's', 'extra'], /^unexpected argument "extra"/);
    refused(['--source', 's', '--source', 't'], /^--source is given twice$/);
    refused(['--source'], /^--source needs a value$/);
    refused(['--source', '--json'], /^--source needs a value$/);
    refused(['--json'], /^--source is required$/);
    refused(['--source', 's', '--json=false'], /^--json takes no value$/);
  });

  test('values of the wrong kind', () => {
    refused(['--source', ''], /^--source must not be empty$/);
    for (const id of ['0', '-1', '1.5', '1e3', 'x', '99999999999999999999']) refused(['--source', 's', '--id', id], /^--id must be a positive integer, got /);
    for (const s of ['0', '-1', 'soon', 'Infinity', '1e400']) refused(['--source', 's', '--seconds', s], /^--seconds must be a number of seconds above 0, got /);
    refused(['--source', 's', '--options', '{x'], /^--options is not valid JSON \(/);
    refused(['--source', 's', '--options', '[1]'], /^--options must be a JSON object .*, got an array$/);
    refused(['--source', 's', '--options', '5'], /^--options must be a JSON object .*, got a number$/);
  });
});

describe('resolvePgUrl names where a bad URL came from, without repeating it', () => {
  test('--pg, then DATABASE_URL', () => {
    assert.throws(() => resolvePgUrl('mysql://u:secret@h/db', {}), /--pg must start with postgres:\/\/, not mysql:\/\/$/);
    assert.throws(() => resolvePgUrl(undefined, { DATABASE_URL: 'nope secret' }), (err: Error) => /^DATABASE_URL is not a valid URL/.test(err.message) && !err.message.includes('secret'));
    assert.equal(resolvePgUrl(undefined, { DATABASE_URL: 'postgres://u@h/db' }), 'postgres://u@h/db');
  });
});

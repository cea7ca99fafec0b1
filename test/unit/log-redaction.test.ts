import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger, redactText, type Logger } from '../../src/log.js';

const SECRET = 's3cr3t';
const URL_WITH_SECRET = `mysql://repl:${SECRET}@db.example:3306/shop`;
const URL_MASKED = 'mysql://repl:********@db.example:3306/shop';

/** A logger writing into memory; pino writes synchronously to a plain stream, so the lines are there on return. */
function captured(): { log: Logger; lines(): Record<string, unknown>[]; text(): string } {
  const chunks: string[] = [];
  const destination = {
    write(chunk: string | Uint8Array): boolean {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  const log = createLogger({ level: 'debug', destination });
  return {
    log,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function assertNoSecret(text: string): void {
  assert.ok(text.length > 0, 'something was logged');
  assert.ok(!text.includes(SECRET), `the password leaked into the log output:\n${text}`);
}

describe('redactText', () => {
  test('masks the password of every URL in a text and keeps the rest', () => {
    const text = `from ${URL_WITH_SECRET} to postgres://app:${SECRET}@pg:5432/db done`;
    assert.equal(redactText(text), `from ${URL_MASKED} to postgres://app:********@pg:5432/db done`);
  });

  test('leaves URLs without a password and plain text alone', () => {
    const text = 'mysql://repl@db.example/shop and user:name@host and a: b @ c';
    assert.equal(redactText(text), text);
  });
});

describe('createLogger output never carries a password', () => {
  test('a URL in a redacted field is blanked, other fields stay', () => {
    const c = captured();
    c.log.info({ url: URL_WITH_SECRET, source: 'shop' }, 'connecting');
    assertNoSecret(c.text());
    const [line] = c.lines();
    assert.equal(line.url, '********');
    assert.equal(line.source, 'shop');
    assert.equal(line.msg, 'connecting');
  });

  test('a URL in the message text keeps everything but the password', () => {
    const c = captured();
    c.log.warn(`connecting to ${URL_WITH_SECRET} failed, retrying in 5s`);
    assertNoSecret(c.text());
    assert.equal(c.lines()[0].msg, `connecting to ${URL_MASKED} failed, retrying in 5s`);
  });

  test('a URL passed as a printf-style argument is masked', () => {
    const c = captured();
    c.log.info('source %s at %s', 'shop', URL_WITH_SECRET);
    assertNoSecret(c.text());
    assert.equal(c.lines()[0].msg, `source shop at ${URL_MASKED}`);
  });

  test('a URL in a free-text field of the log object is masked', () => {
    const c = captured();
    c.log.info({ detail: `replica reads ${URL_WITH_SECRET}` }, 'detail');
    assertNoSecret(c.text());
    assert.equal(c.lines()[0].detail, `replica reads ${URL_MASKED}`);
  });

  test('password fields are blanked at the top level and one level down', () => {
    const c = captured();
    c.log.info({ password: SECRET, user: 'repl' }, 'login');
    c.log.info({ config: { password: SECRET, host: 'db.example' } }, 'config');
    c.log.info({ source: { mysql_url: URL_WITH_SECRET, name: 'shop' } }, 'source');
    assertNoSecret(c.text());
    const [login, config, source] = c.lines();
    assert.equal(login.password, '********');
    assert.equal(login.user, 'repl');
    assert.deepEqual(config.config, { password: '********', host: 'db.example' });
    assert.deepEqual(source.source, { mysql_url: '********', name: 'shop' });
  });

  test('an Error under err keeps its message, without the password', () => {
    const c = captured();
    c.log.error({ err: new Error(`connect ECONNREFUSED for ${URL_WITH_SECRET}`) }, 'cannot reach MySQL');
    assertNoSecret(c.text());
    const line = c.lines()[0];
    assert.equal(line.msg, 'cannot reach MySQL');
    assert.equal((line.err as { message: string }).message, `connect ECONNREFUSED for ${URL_MASKED}`);
  });

  test('an Error under another key keeps its message and code, without the password', () => {
    const c = captured();
    const err = Object.assign(new Error(`access denied on ${URL_WITH_SECRET}`), { code: 'ER_ACCESS_DENIED_ERROR' });
    c.log.error({ error: err, source: 'shop' }, 'source stopped');
    assertNoSecret(c.text());
    const line = c.lines()[0];
    const { stack, ...rest } = line.error as Record<string, unknown>;
    assert.deepEqual(rest, { type: 'Error', message: `access denied on ${URL_MASKED}`, code: 'ER_ACCESS_DENIED_ERROR' });
    assert.match(String(stack), /access denied on mysql:\/\/repl:\*+@/);
    assert.equal(line.source, 'shop');
  });

  test('an Error logged as the only argument does not leak through msg', () => {
    const c = captured();
    c.log.error(new Error(`connect failed for ${URL_WITH_SECRET}`));
    assertNoSecret(c.text());
    assert.match(String(c.lines()[0].msg), /connect failed for mysql:\/\/repl:\*+@db\.example/);
  });

  test('a URL nested two levels deep is masked', () => {
    const c = captured();
    c.log.info({ step: { detail: { text: `copy from ${URL_WITH_SECRET}` } } }, 'deep');
    assertNoSecret(c.text());
  });

  test('a URL in child logger bindings is masked', () => {
    const c = captured();
    c.log.child({ target: URL_WITH_SECRET }).info('child');
    assertNoSecret(c.text());
  });

  test('a password holding an unencoded @ is masked whole', () => {
    const c = captured();
    c.log.info(`reading mysql://repl:pa@${SECRET}@db.example/shop`);
    assertNoSecret(c.text());
  });
});

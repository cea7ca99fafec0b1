import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonbWithoutNul } from '../../src/catalog/tables.js';

/** What jsonb would hold: the JSON text parsed back, which fails on any \u0000 left in it. */
function stored(value: string): string {
  const json = jsonbWithoutNul(JSON.stringify({ v: value }));
  assert.doesNotMatch(json, /(?<!\\)(\\\\)*\\u0000/, `no NUL escape left in ${json}`);
  return (JSON.parse(json) as { v: string }).v;
}

test('a NUL in a discarded row image becomes the text \\u0000; text that only looks like one is kept as it is', () => {
  assert.equal(stored('a\u0000b'), 'a\\u0000b');
  assert.equal(stored('\u0000\u0000'), '\\u0000\\u0000');
  // the text backslash-u0000 (a JSON column's escaped NUL, or plain text) is no NUL
  assert.equal(stored('x\\u0000'), 'x\\u0000');
  assert.equal(stored('{"k":"\\u0000"}'), '{"k":"\\u0000"}');
  assert.equal(stored('["\\\\u0000"]'), '["\\\\u0000"]');
  // a backslash right before a real NUL
  assert.equal(stored('\\\u0000'), '\\\\u0000');
  assert.equal(stored('\\\\\u0000'), '\\\\\\u0000');
  assert.equal(stored('plain'), 'plain');
});

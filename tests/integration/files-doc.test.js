'use strict';
/*
 * docs/FILES.md tells the truth: its example runs as written against the
 * stack (as against `make run`) and prints what it says it prints; every
 * setting it names is one the programs read.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { start, TOP } = require('./harness');

const doc = fs.readFileSync(path.join(TOP, 'docs/FILES.md'), 'utf8');

/* Does the actual value match the document's, where "…" stands for anything? */
function like(actual, expected, where) {
  if (expected === '…') return assert.notEqual(actual, undefined, `${where}: missing`);
  if (expected === null || typeof expected !== 'object') return assert.deepEqual(actual, expected, where);
  assert.equal(Array.isArray(actual), Array.isArray(expected), `${where}: array or object`);
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${where}: members`);
  for (const k of Object.keys(expected)) like(actual[k], expected[k], `${where}.${k}`);
  return undefined;
}

describe('docs/FILES.md', () => {
  let s;
  before(async () => { s = await start(); });
  after(() => s.stop());

  it('its example runs as written and prints what it shows', () => {
    const blocks = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.equal(blocks.length, 1);
    const [b] = blocks;
    const script = `set -e\ncurl() { command curl "$@"; local rc=$?; echo; return $rc; }\n${b}`
      .replaceAll('http://127.0.0.1:8080', s.base).replaceAll('run/', `${s.dir}/`);
    const out = execFileSync('bash', ['-c', script], { encoding: 'utf8', cwd: TOP });
    // curl's -o /dev/null calls print an empty line: only answers count.
    const got = out.split('\n').filter((l) => l !== '');
    const want = b.split('\n').filter((l) => l.startsWith('# {')).map((l) => l.slice(2));
    assert.equal(got.length, want.length, out);
    want.forEach((w, i) => like(JSON.parse(got[i]), JSON.parse(w), `answer ${i + 1}`));
  });

  it('names only settings the programs read, and every file setting', () => {
    const src = fs.readFileSync(path.join(TOP, 'lib/sb_config.c'), 'utf8');
    const keys = new Set([...src.matchAll(/^\s*\{ "(SENTC_[A-Z0-9_]+)"/gm)].map((m) => m[1]));
    for (const [k] of doc.matchAll(/SENTC_BACKEND_[A-Z0-9_]+/g)) assert.ok(keys.has(k), k);
    for (const k of keys) if (k.startsWith('SENTC_BACKEND_FILE_')) assert.match(doc, new RegExp(`^\\| \`${k}\` \\|`, 'm'), k);
  });
});

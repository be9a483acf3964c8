'use strict';
/*
 * The README tells the truth: its route examples run as written against the
 * stack and print what it says they print; its example program is the one
 * that ships; every configuration key, error code and program is in it.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { start, TOP } = require('./harness');

const readme = fs.readFileSync(path.join(TOP, 'README.md'), 'utf8');

/* The text of a "## " section, up to the next one. */
function section(title) {
  const at = readme.indexOf(`\n## ${title}\n`);
  assert.notEqual(at, -1, `README has a section "${title}"`);
  const end = readme.indexOf('\n## ', at + 1);
  return readme.slice(at, end === -1 ? undefined : end);
}

/* The fenced blocks of one language in a text. */
function blocks(text, lang) {
  const out = [];
  const re = new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g');
  for (let m; (m = re.exec(text));) out.push(m[1]);
  return out;
}

/* Does the actual value match the README's, where "…" stands for anything? */
function like(actual, expected, where) {
  if (expected === '…') {
    assert.notEqual(actual, undefined, `${where}: missing`);
    return;
  }
  if (expected === null || typeof expected !== 'object') {
    assert.deepEqual(actual, expected, where);
    return;
  }
  assert.equal(Array.isArray(actual), Array.isArray(expected), `${where}: array or object`);
  if (Array.isArray(expected)) {
    assert.equal(actual.length, expected.length, `${where}: length`);
    expected.forEach((v, i) => like(actual[i], v, `${where}[${i}]`));
    return;
  }
  assert.ok(actual !== null && typeof actual === 'object', `${where}: an object`);
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${where}: members`);
  for (const k of Object.keys(expected)) like(actual[k], expected[k], `${where}.${k}`);
}

describe('README', () => {
  let s;
  before(async () => { s = await start(); });
  after(() => s.stop());

  it('route examples run as written and print what the README shows', () => {
    const examples = blocks(section('Routes'), 'sh');
    assert.ok(examples.length >= 10, 'an example per route');
    // curl -s prints no newline of its own: one line per answer.
    let script = 'set -e\ncurl() { command curl "$@"; local rc=$?; echo; return $rc; }\n';
    examples.forEach((b, i) => { script += `echo "@@ ${i}"\n${b}\n`; });
    script = script.replaceAll('http://127.0.0.1:8080', s.base).replaceAll('run/', `${s.dir}/`);
    // From the repository's root, as against make run; run/ is the stack's directory.
    const out = execFileSync('bash', ['-c', script], { encoding: 'utf8', cwd: TOP });
    const outputs = out.split(/^@@ \d+\n/m).slice(1);
    assert.equal(outputs.length, examples.length, 'every block ran');
    examples.forEach((b, i) => {
      const want = b.split('\n').filter((l) => /^# (\{|eyJ|sentc_backend_)/.test(l)).map((l) => l.slice(2));
      const got = outputs[i].split('\n').filter((l) => l !== '');
      const where = `example ${i + 1} (${b.split('\n')[0].slice(0, 60)})`;
      assert.equal(got.length, want.length, `${where}: one shown answer per answer\n${outputs[i]}`);
      want.forEach((w, j) => {
        if (w.startsWith('eyJ')) { // a JWT, shown by its first characters
          assert.match(got[j], /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/, where);
          return;
        }
        if (w.startsWith('sentc_backend_')) { // a Prometheus sample; "…" is any value
          const re = w.split('…').map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\S+');
          assert.match(got[j], new RegExp(`^${re}$`), where);
          return;
        }
        let actual;
        try { actual = JSON.parse(got[j]); } catch { assert.fail(`${where}: not JSON: ${got[j]}`); }
        like(actual, JSON.parse(w.replaceAll('{…}', '"…"')), where);
      });
    });
  });

  it('shows the shipped example program as it is', () => {
    const [prog] = blocks(section('Writing a route'), 'c');
    assert.equal(prog, fs.readFileSync(path.join(TOP, 'cgi-bin/group-data.c'), 'utf8'));
  });

  it('lists every configuration key', () => {
    const src = fs.readFileSync(path.join(TOP, 'lib/sb_config.c'), 'utf8');
    const keys = [...src.matchAll(/^\s*\{ "(SENTC_[A-Z0-9_]+)"/gm)].map((m) => m[1]);
    assert.ok(keys.length > 10);
    const table = section('Configuration');
    for (const k of keys) assert.match(table, new RegExp(`^\\| \`${k}\` \\|`, 'm'), k);
  });

  it('lists every error code with its status', () => {
    const src = fs.readFileSync(path.join(TOP, 'lib/sb_error.h'), 'utf8');
    const codes = [...src.matchAll(/\/\* (2\d{4}) (\d{3}) /g)].map((m) => [m[1], m[2]]);
    assert.ok(codes.length > 20);
    for (const [code, status] of codes)
      assert.match(readme, new RegExp(`^\\| ${code} \\| ${status} \\|`, 'm'), code);
  });

  it('routes every program in the nginx snippet, through a kept-alive upstream', () => {
    const conf = fs.readFileSync(path.join(TOP, 'nginx/sentc-backend.conf'), 'utf8');
    const ups = fs.readFileSync(path.join(TOP, 'nginx/sentc-backend-upstreams.conf'), 'utf8');
    assert.match(conf, /^fastcgi_keep_conn on;$/m);
    for (const f of fs.readdirSync(path.join(TOP, 'cgi-bin')).filter((n) => n.endsWith('.c'))) {
      const name = f.slice(0, -2);
      const up = `sentc_backend_${name.replace(/-/g, '_')}`;
      assert.match(conf, new RegExp(`fastcgi_pass ${up};`), name);
      assert.match(ups, new RegExp(`upstream ${up} \\{\\n\\tserver unix:/run/sentc-backend/${name}\\.sock;\\n\\tkeepalive \\d+;\\n\\}`), name);
    }
    assert.doesNotMatch(conf, /fastcgi_pass unix:/, 'every program through its upstream');
  });
});

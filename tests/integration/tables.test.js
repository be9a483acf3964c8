'use strict';
/*
 * Each program prints its own route table (-r): a path a line, with its
 * methods, the methods whose body is JSON, and the route's flags. The
 * table is the one source of what a program serves: the snippets and the
 * docs are to agree with it.
 */
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { TOP, BUILD } = require('./harness');

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);
const FLAGS = new Set(['db', 'no-cors', 'origin', 'secret', 'settle', 'cookie', 'file-body', 'access']);
const programs = fs.readdirSync(path.join(TOP, 'cgi-bin')).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2)).sort();

function table(name) {
  const r = spawnSync(path.join(TOP, BUILD, 'bin', name), ['-r'], { encoding: 'utf8', env: {} });
  assert.equal(r.status, 0, `${name} -r: ${r.stderr}`);
  assert.equal(r.stderr, '', `${name} -r writes nothing else`);
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

describe('route tables', () => {
  it('every program prints its own, without a config', () => {
    for (const name of programs) {
      const rows = table(name);
      assert.ok(rows.length > 0, `${name}: no paths`);
      for (const [prog, pattern, methods, body, flags, ...rest] of rows) {
        assert.equal(rest.length, 0, `${name}: five columns`);
        assert.equal(prog, name);
        assert.match(pattern, /^\/[A-Za-z0-9_./{}-]*$/, `${name}: ${pattern}`);
        const ms = methods.split(',');
        assert.ok(ms.every((m) => METHODS.has(m)), `${name}: ${methods}`);
        assert.equal(ms.includes('GET'), ms.includes('HEAD'), `${name} ${pattern}: HEAD wherever GET`);
        if (body !== '-') assert.ok(body.split(',').every((m) => ms.includes(m)), `${name} ${pattern}: a body only for its methods`);
        if (flags !== '-') assert.ok(flags.split(',').every((f) => FLAGS.has(f)), `${name}: ${flags}`);
      }
    }
  });

  it('says what each shipped program serves', () => {
    const me = table('me');
    assert.deepEqual(me, [['me', '/backend/me', 'GET,HEAD,PUT', 'PUT', 'db']]);
    const items = table('items').map((r) => r.slice(1, 4));
    assert.deepEqual(items, [
      ['/backend/groups/{id}/items/{id}', 'GET,HEAD,PUT,DELETE', 'PUT'],
      ['/backend/groups/{id}/items', 'GET,HEAD', '-'],
    ]);
    assert.ok(table('admin').every((r) => r[4].split(',').includes('no-cors')), 'no browser calls the admin routes');
    assert.ok(table('session')[0][4].split(',').includes('secret'), 'the session body is wiped');
  });
});

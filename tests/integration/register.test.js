'use strict';
/* POST /api/v1/register through nginx, against the simulator. */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { start, registerInput: input, waitFor, gone, WAIT_MS } = require('./harness');

const path = '/api/v1/register';
let seq = 0;
const uniq = (p) => `${p}-${process.pid}-${++seq}`;

describe('register', () => {
  let s;
  before(async () => { s = await start(); });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  it('relays with the secret token and stores user_data', async () => {
    const name = uniq('alice');
    const r = await s.api('POST', path, {
      body: { ...input(name), user_data: { plan: 'pro', tags: ['a', 'b'] } },
      headers: { 'x-sentc-app-token': s.config.SENTC_PUBLIC_TOKEN },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, true);
    const { user_id, device_id, device_identifier } = r.json.result;
    assert.match(user_id, /^[0-9a-f-]{36}$/);
    assert.ok(device_id);
    assert.equal(device_identifier, name);

    const up = await s.upstream();
    assert.deepEqual(up.map((x) => `${x.method} ${x.path}`), ['POST /api/v1/exists', 'POST /api/v1/register']);
    assert.deepEqual(up[0].body, { user_identifier: name }, 'asks first whether sentc has the name');
    assert.equal(up[0].token, 'public', 'the token of user_exists, public by default');
    assert.equal(up[1].token, 'secret', 'the backend swaps in the secret token');
    assert.deepEqual(up[1].body, input(name), 'user_data removed, the rest unchanged');

    const rows = s.rows(`SELECT user_id, identifier, user_data FROM users WHERE user_id = '${user_id}'`);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].identifier, name);
    assert.deepEqual(JSON.parse(rows[0].user_data), { plan: 'pro', tags: ['a', 'b'] });
  });

  it('relays a body without user_data byte for byte and stores {}', async () => {
    const name = uniq('bob');
    // White space, escapes and a member sentc does not read, as a client may send them.
    const text = JSON.stringify({ ...input(name), k: 'a/b\u00e9' }, null, ' ')
      .replace('"a/b\u00e9"', '"a\\/b\\u00e9"').replace('"k"', '"n": 1.50, "k"');
    const r = await s.api('POST', path, { body: text });
    assert.equal(r.status, 200, r.text);
    const up = await s.upstream();
    assert.equal(up.length, 2);
    assert.deepEqual(up[1].body, JSON.parse(text));
    const rows = s.rows(`SELECT user_data FROM users WHERE identifier = '${name}'`);
    assert.deepEqual(rows.map((x) => JSON.parse(x.user_data)), [{}]);
  });

  it('answers the upstream envelope unchanged, as doneRegister expects', async () => {
    const r = await s.api('POST', path, { body: input(uniq('carol')) });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json), ['status', 'result']);
    assert.deepEqual(Object.keys(r.json.result).sort(), ['device_id', 'device_identifier', 'user_id']);
    assert.equal(r.headers.get('content-type'), 'application/json');
  });

  it("passes sentc's 422 for a 2022-shaped body through and stores nothing", async () => {
    const name = uniq('old');
    const { encrypted_hmac_key, encrypted_hmac_alg, encrypted_sortable_key, encrypted_sortable_alg, ...group } = input(name).group;
    const r = await s.api('POST', path, { body: { ...input(name), group, user_data: { a: 1 } } });
    assert.equal(r.status, 422, r.text);
    assert.equal(r.json.err_code, 11);
    assert.match(r.json.err_msg, /missing field `encrypted_hmac_key`/);
    assert.equal(s.rows(`SELECT 1 FROM users WHERE identifier = '${name}'`).length, 0);
    assert.ok(!(await s.sim('GET', 'state')).users.some((u) => u.device_identifier === name));
  });

  it('passes a sentc error through and stores nothing', async () => {
    const name = uniq('dave');
    await s.register(name, { first: true });
    await s.clearLog();
    const r = await s.api('POST', path, { body: { ...input(name), user_data: { second: true } } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, { status: false, err_msg: r.json.err_msg, err_code: 101 });
    const rows = s.rows(`SELECT user_data FROM users WHERE identifier = '${name}'`);
    assert.deepEqual(rows.map((x) => JSON.parse(x.user_data)), [{ first: true }]);
  });

  it('undoes the registration at sentc when the own database fails', async () => {
    const name = uniq('erin');
    const undo = s.failWrites('users', 'INSERT');
    try {
      const r = await s.api('POST', path, { body: { ...input(name), user_data: { a: 1 } } });
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.status, false);
      assert.equal(r.json.err_code, 20022);
      const up = (await s.upstream()).filter((x) => x.path !== '/api/v1/exists');
      assert.equal(up.length, 2);
      const created = up[0];
      assert.equal(created.path, '/api/v1/register');
      assert.equal(up[1].method, 'DELETE');
      assert.match(up[1].path, /^\/api\/v1\/user\/forced\/delete\/[0-9a-f-]{36}$/);
      assert.equal(up[1].token, 'secret');
      const state = await s.sim('GET', 'state');
      assert.equal(state.users.filter((u) => u.device_identifier === name).length, 0, 'no sentc user left');
    } finally {
      undo();
    }
    assert.equal(s.rows(`SELECT 1 FROM users WHERE identifier = '${name}'`).length, 0);
    // The name is free again: a retry succeeds.
    await s.register(name);
  });

  it('says so loudly when the undo fails too', async () => {
    const name = uniq('frank');
    const undo = s.failWrites('users', 'INSERT');
    await s.sim('POST', 'fail', { path: '/api/v1/user/forced/delete/*', mode: '5xx', count: 1 });
    try {
      const r = await s.api('POST', path, { body: input(name) });
      assert.equal(r.status, 500);
      assert.equal(r.json.err_code, 20023);
    } finally {
      undo();
      await s.sim('DELETE', 'fail');
    }
    assert.match(s.log(), /INCONSISTENT: could not undo DELETE \/user\/forced\/delete\//);
  });

  describe('bad input: a clear 4xx, nothing upstream, nothing stored', () => {
    const cases = [
      ['a body that is not JSON', '{"device": ', 400, 20006],
      ['a JSON array', '[{"device": {}}]', 400, 20007],
      ['a JSON string', '"register"', 400, 20007],
      ['an empty body', '', 400, 20006],
      ['trailing garbage', '{"device": {}} x', 400, 20006],
      ['user_data that is a string', JSON.stringify({ ...input('x1'), user_data: 'hello' }), 400, 20007],
      ['user_data that is an array', JSON.stringify({ ...input('x2'), user_data: [1] }), 400, 20007],
      ['user_data over 16 KiB', JSON.stringify({ ...input('x3'), user_data: { v: 'x'.repeat(16 * 1024) } }), 413, 20008],
      ['a body over 1 MiB', JSON.stringify({ ...input('x4'), pad: 'x'.repeat(1024 * 1024) }), 413, 20005],
      ['a body over what nginx takes', JSON.stringify({ ...input('x5'), pad: 'x'.repeat(3 * 1024 * 1024) }), 413, 20005],
    ];
    for (const [what, body, status, code] of cases) {
      it(what, async () => {
        const before = s.rows('SELECT count(*) AS n FROM users')[0].n;
        const r = await s.api('POST', path, { body });
        assert.equal(r.status, status, r.text);
        assert.equal(r.json.status, false);
        assert.equal(r.json.err_code, code);
        assert.equal(typeof r.json.err_msg, 'string');
        assert.deepEqual(await s.upstream(), []);
        assert.equal(s.rows('SELECT count(*) AS n FROM users')[0].n, before);
      });
    }

    for (const method of ['GET', 'PUT', 'DELETE']) {
      it(`the wrong method, ${method}`, async () => {
        const r = await s.api(method, path);
        assert.equal(r.status, 405);
        assert.equal(r.headers.get('allow'), 'POST');
        assert.equal(r.json.err_code, 20002);
        assert.deepEqual(await s.upstream(), []);
      });
    }
  });

  describe('upstream faults', () => {
    for (const [mode, status, code] of [['garbage', 502, 20010], ['close', 502, 20009], ['5xx', 502, 20025]]) {
      it(`${mode} → ${status}, nothing stored`, async () => {
        const name = uniq(mode);
        // Once: a register that may have reached sentc is never sent again.
        await s.sim('POST', 'fail', { path, mode, count: 1 });
        const r = await s.api('POST', path, { body: { ...input(name), user_data: { a: 1 } } });
        assert.equal(r.status, status, r.text);
        assert.equal(r.json.err_code, code);
        assert.equal(s.rows(`SELECT 1 FROM users WHERE identifier = '${name}'`).length, 0);
      });
    }
  });

  it('never logs the secret token', () => {
    assert.doesNotMatch(s.log(), new RegExp(s.config.SENTC_SECRET_TOKEN));
    assert.doesNotMatch(s.log(), new RegExp(s.config.SENTC_PUBLIC_TOKEN));
  });
});

describe('register with a slow or absent upstream', () => {
  let s;
  before(async () => { s = await start({ SENTC_BACKEND_UPSTREAM_TIMEOUT_MS: '400' }); });
  after(() => s.stop());

  it('an upstream slower than the timeout → 504', async () => {
    // sentc answers after any wait of the tests' (WAIT_MS), far past the timeout (0.4 s).
    const delay = WAIT_MS;
    await s.sim('POST', 'fail', { path, mode: 'delay', delay_ms: delay, count: 1 });
    const t0 = Date.now();
    const r = await s.api('POST', path, { body: { ...input(uniq('slow')), user_data: { a: 1 } } });
    assert.equal(r.status, 504, r.text);
    assert.equal(r.json.err_code, 20011);
    assert.ok(Date.now() - t0 < delay, 'answered at the timeout, not after the upstream');
  });

  it('an upstream that is down → 502', async () => {
    const fs = require('node:fs');
    const sim = Number(fs.readFileSync(`${s.dir}/pids/sim`, 'utf8'));
    process.kill(sim, 'SIGKILL');
    await waitFor(() => gone(sim), 'the simulator to be gone');
    const r = await s.api('POST', path, { body: input(uniq('down')) });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.err_code, 20009);
    assert.equal(s.rows('SELECT count(*) AS n FROM users')[0].n, 0);
  });
});

'use strict';
/*
 * Faults through nginx, against the simulator: a worker killed in the
 * middle of a request, a database that turns read-only or stays locked,
 * an upstream that closes in the middle of its answer, nginx reloading
 * under load. Each ends in a clear envelope and a consistent state.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const { start, registerInput, sleep, waitFor, SLOW, WAIT_MS } = require('./harness');
const { Conn } = require('./fcgi');

let seq = 0;
const uniq = (p) => `${p}-${process.pid}-${++seq}`;
const input = (name, userData) => {
  const body = registerInput(name);
  if (userData !== undefined) body.user_data = userData;
  return body;
};

/* An error envelope: status false, a message, a numeric code, nothing else. */
function envelope(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.deepEqual(Object.keys(r.json ?? {}).sort(), ['err_code', 'err_msg', 'status'], r.text);
  assert.equal(r.json.status, false);
  assert.equal(r.json.err_code, code, r.text);
}

describe('a worker killed with SIGKILL in the middle of a request', () => {
  let s;
  before(async () => { s = await start(); });
  after(() => s.stop());

  it('answers that request with an envelope, is replaced, and the next request is served', async () => {
    const route = '/api/v1/user/prepare_register_device';
    const before = s.pids('register-device');
    assert.ok(before.length >= 1);
    await s.clearLog();
    // sentc holds the request longer than any wait: it is still in the worker when the worker is killed.
    await s.sim('POST', 'fail', { path: route, mode: 'delay', delay_ms: 2 * WAIT_MS, count: 1 });
    const pending = s.api('POST', route, { body: { device_identifier: uniq('killed') } });
    // The request is in a worker once the simulator has it.
    await waitFor(async () => (await s.upstream()).length === 1, 'the request to reach sentc');
    for (const pid of before) process.kill(pid, 'SIGKILL');

    const r = await pending;
    envelope(r, 503, 20026);
    await waitFor(() => {
      const now = s.pids('register-device');
      return now.length === before.length && now.every((p) => !before.includes(p));
    }, 'new workers in place of the killed ones', { detail: () => `before ${before}, now ${s.pids('register-device')}` });
    for (let i = 0; i < 3; i++) {
      const ok = await s.api('POST', route, { body: { device_identifier: uniq('after-kill') } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.status, true);
    }
    assert.ok(s.logRecords('register-device').some((r) => r.level === 'error'
      && /^worker \d+ killed by signal 9; restarting$/.test(r.msg)), 'the restart is logged');
  });
});

describe('the own database fails', () => {
  let s;
  let u;
  before(async () => {
    s = await start();
    u = await s.user('dbf', { v: 1 });
    // Every register worker has its connection open, as after any use: a
    // worker that had to open the store only now could not, and would
    // answer before it asks sentc anything (503, 20020; unsure.test.js).
    // nginx keeps its connections to a program, and an idle worker may
    // take every new one: the warm-up sends one request per worker at
    // once, each on a connection of its own straight on the socket, while
    // sentc holds each for a moment, so that a busy worker leaves the next
    // connection to another; until every worker took one.
    const workers = s.pids('register');
    const sock = path.join(s.dir, 'sock', 'register.sock');
    await waitFor(async () => {
      await s.sim('POST', 'fail', { path: '/api/v1/exists', mode: 'delay', delay_ms: 300, count: workers.length });
      await Promise.all(workers.map(async () => {
        const c = new Conn(sock);
        try {
          await c.connected();
          const r = await c.request({ method: 'POST', uri: '/api/v1/register', body: JSON.stringify(input(uniq('warm'))), keep: false });
          assert.equal(r.status, 200, r.body);
        } finally {
          c.end();
        }
      }));
      await s.sim('DELETE', 'fail');
      const served = new Set(s.logRecords('register').filter((r) => typeof r.status === 'number').map((r) => r.pid));
      return workers.every((p) => served.has(p));
    }, 'every register worker to have served a request');
  });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  /* Registers name while the database cannot take it: 503, undone at sentc. */
  async function registerUndone(name) {
    const r = await s.api('POST', '/api/v1/register', { body: input(name, { a: 1 }) });
    envelope(r, 503, 20022);
    const up = await s.upstream();
    assert.deepEqual(up.map((x) => x.method), ['POST', 'POST', 'DELETE'], JSON.stringify(up));
    assert.equal(up[0].path, '/api/v1/exists');
    assert.equal(up[1].path, '/api/v1/register');
    assert.match(up[2].path, /^\/api\/v1\/user\/forced\/delete\/[0-9a-f-]{36}$/);
    assert.equal(up[2].token, 'secret');
    const state = await s.sim('GET', 'state');
    assert.ok(!state.users.some((x) => x.device_identifier === name), 'the user is gone at sentc');
  }

  it('read-only (the file made immutable, the server read-only): 503, register undone at sentc, data kept', async () => {
    const name = uniq('ro');
    const undo = s.readOnly();
    try {
      await registerUndone(name);
      const r = await s.api('PUT', '/backend/me', { body: { v: 2 }, headers: u.auth });
      envelope(r, 503, 20020);
    } finally {
      undo();
    }
    assert.equal(s.rows(`SELECT 1 FROM users WHERE identifier = '${name}'`).length, 0);
    const me = await s.api('GET', '/backend/me', { headers: u.auth });
    assert.deepEqual(me.json.result, { v: 1 }, 'the refused change left the data as it was');
    // Writable again: the same name registers, and the data can change.
    await s.register(name, { again: true });
    assert.equal(s.rows(`SELECT 1 FROM users WHERE identifier = '${name}'`).length, 1);
    const r = await s.api('PUT', '/backend/me', { body: { v: 3 }, headers: u.auth });
    assert.equal(r.status, 200, r.text);
  });

  it('locked by another process past the busy timeout: 503, register undone at sentc', async () => {
    const name = uniq('locked');
    const release = await s.holdWriteLock();
    try {
      await registerUndone(name);
      const r = await s.api('PUT', '/backend/me', { body: { v: 4 }, headers: u.auth });
      envelope(r, 503, 20020);
    } finally {
      await release();
    }
    assert.equal(s.rows(`SELECT 1 FROM users WHERE identifier = '${name}'`).length, 0);
    await s.register(name);
  });
});

describe('the upstream closes in the middle of its answer', () => {
  let s;
  let owner;
  before(async () => {
    s = await start();
    owner = await s.user('owner');
  });
  after(() => s.stop());
  beforeEach(async () => {
    await s.sim('DELETE', 'fail');
    await s.clearLog();
  });

  it('register: 502, nothing stored, and the user sentc made is deleted again', async () => {
    const name = uniq('cut');
    await s.sim('POST', 'fail', { path: '/api/v1/register', mode: 'truncate', count: 1 });
    const r = await s.api('POST', '/api/v1/register', { body: input(name, { a: 1 }) });
    envelope(r, 502, 20009);
    assert.equal(s.rows(`SELECT 1 FROM users WHERE identifier = '${name}'`).length, 0);
    const up = await s.upstream();
    assert.deepEqual(up.map((x) => `${x.method} ${x.path}`),
      ['POST /api/v1/exists', 'POST /api/v1/register', 'PUT /api/v1/user/forced/delete']);
    assert.deepEqual(up[2].body, { user_identifier: name });
    assert.equal(up[2].token, 'secret');
    const state = await s.sim('GET', 'state');
    assert.ok(!state.users.some((x) => x.device_identifier === name), 'no sentc user without its own row');
    assert.match(s.log(), /undone at sentc after a lost answer: PUT \/user\/forced\/delete/);
    // Nothing is left behind: the name registers cleanly.
    await s.register(name);
  });

  it('register, when the connection drops before sentc acts: 502, nothing to undo', async () => {
    const name = uniq('drop');
    await s.sim('POST', 'fail', { path: '/api/v1/register', mode: 'close', count: 1 });
    const r = await s.api('POST', '/api/v1/register', { body: input(name) });
    envelope(r, 502, 20009);
    const up = await s.upstream();
    // A register is never sent twice: sentc may have acted on the first.
    assert.equal(up.filter((x) => x.path === '/api/v1/register').length, 1);
    assert.equal(up.at(-1).path, '/api/v1/user/forced/delete', 'asked to undo, found nothing');
    assert.equal(s.rows(`SELECT 1 FROM users WHERE identifier = '${name}'`).length, 0);
    await s.register(name);
  });

  it('register of a name that is ours already: 502, and the existing user is left alone', async () => {
    const mine = await s.user('mine', { keep: true });
    await s.clearLog();
    await s.sim('POST', 'fail', { path: '/api/v1/register', mode: 'truncate', count: 1 });
    const r = await s.api('POST', '/api/v1/register', { body: input(mine.name) });
    envelope(r, 502, 20009);
    assert.deepEqual((await s.upstream()).map((x) => x.path), ['/api/v1/exists', '/api/v1/register'], 'no undo');
    const state = await s.sim('GET', 'state');
    assert.ok(state.users.some((x) => x.user_id === mine.id));
    const me = await s.api('GET', '/backend/me', { headers: mine.auth });
    assert.deepEqual(me.json.result, { keep: true });
  });

  it('register of a name sentc has from elsewhere (no own row): 502, and that account is left alone', async () => {
    // Registered at sentc directly, before the backend served register.
    const name = uniq('elsewhere');
    const res = await fetch(`${s.simBase}/api/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sentc-app-token': s.config.SENTC_SECRET_TOKEN },
      body: JSON.stringify(input(name)),
    });
    const theirs = (await res.json()).result.user_id;
    await s.clearLog();
    await s.sim('POST', 'fail', { path: '/api/v1/register', mode: 'truncate', count: 1 });
    const r = await s.api('POST', '/api/v1/register', { body: input(name) });
    envelope(r, 502, 20009);
    assert.deepEqual((await s.upstream()).map((x) => x.path), ['/api/v1/exists', '/api/v1/register'], 'no undo');
    assert.ok((await s.sim('GET', 'state')).users.some((x) => x.user_id === theirs), 'the account is still there');
  });

  it('register when sentc cannot say whether it has the name: the fault, and nothing registered', async () => {
    const name = uniq('noexists');
    await s.sim('POST', 'fail', { path: '/api/v1/exists', mode: '5xx', count: 1 });
    const r = await s.api('POST', '/api/v1/register', { body: input(name) });
    envelope(r, 502, 20025);
    assert.deepEqual((await s.upstream()).map((x) => x.path), ['/api/v1/exists']);
    assert.ok(!(await s.sim('GET', 'state')).users.some((x) => x.device_identifier === name));
  });

  it('register: when the undo fails too, 502, and the register is recorded for a later pass', async () => {
    const name = uniq('cut-undo');
    await s.sim('POST', 'fail', { path: '/api/v1/register', mode: 'truncate', count: 1 });
    await s.sim('POST', 'fail', { path: '/api/v1/user/forced/delete', mode: '5xx', count: 1 });
    const r = await s.api('POST', '/api/v1/register', { body: input(name) });
    envelope(r, 502, 20009);
    assert.match(s.log(), /register lost its answer; recorded/);
    assert.doesNotMatch(s.log(), /INCONSISTENT/);
    assert.equal(s.rows(`SELECT 1 FROM users WHERE identifier = '${name}'`).length, 0);
    assert.equal(s.rows(`SELECT 1 FROM unsure WHERE key = '${name}'`).length, 1);
    await s.settle();
    assert.ok(!(await s.sim('GET', 'state')).users.some((u) => u.device_identifier === name),
      'the user sentc made is deleted');
  });

  it('group create: 502, no group stored', async () => {
    const before = s.rows('SELECT count(*) AS n FROM groups')[0].n;
    await s.sim('POST', 'fail', { path: '/api/v1/group', method: 'POST', mode: 'truncate', count: 1 });
    const r = await s.api('POST', '/api/v1/group', { body: { group_data: { t: 1 } }, headers: owner.auth });
    envelope(r, 502, 20009);
    assert.equal(s.rows('SELECT count(*) AS n FROM groups')[0].n, before);
  });

  it('group access: 502, and the broken answer is not cached', async () => {
    const gid = await s.group(owner);
    await s.clearLog();
    await s.sim('POST', 'fail', { path: `/api/v1/group/${gid}/light`, mode: 'truncate', count: 1 });
    const r = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth });
    envelope(r, 502, 20009);
    const again = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth });
    assert.equal(again.status, 200, again.text);
    assert.equal((await s.upstream()).length, 2, 'asked sentc again');
  });

  it('prepare_register_device: 502', async () => {
    await s.sim('POST', 'fail', { path: '/api/v1/user/prepare_register_device', mode: 'truncate', count: 1 });
    const r = await s.api('POST', '/api/v1/user/prepare_register_device', { body: { device_identifier: uniq('dev') } });
    envelope(r, 502, 20009);
  });
});

describe('nginx reloads under load', () => {
  let s;
  let u;
  before(async () => {
    s = await start();
    u = await s.user('load', { n: 1 });
  });
  after(() => s.stop());

  /* One request on a connection of its own; resolves with the status, or the error's code. */
  function once(method, urlPath, headers, body) {
    return new Promise((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: s.port, method, path: urlPath, headers, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
        res.on('error', (e) => resolve(e.code));
      });
      req.on('error', (e) => resolve(e.code));
      req.end(body);
    });
  }

  it('answers every request while nginx reloads its configuration three times', async () => {
    const workersBefore = s.nginxWorkers();
    const results = [];
    let stop = false;
    const kinds = [
      () => once('GET', '/backend/health'),
      () => once('GET', '/backend/me', u.auth),
      () => once('POST', '/api/v1/user/prepare_register_device', { 'content-type': 'application/json' },
        JSON.stringify({ device_identifier: uniq('reload') })),
    ];
    const loop = async (k) => {
      while (!stop) results.push([k, await kinds[k % kinds.length]()]);
    };
    const loops = [0, 1, 2, 3, 4, 5].map(loop);
    // Between reloads, and after the last: at least 0.4 s, and 10 more
    // answers however slow the machine is.
    const answered = (n) => {
      const mark = results.length;
      return Promise.all([sleep(400 * SLOW), waitFor(() => results.length >= mark + n, `${n} more answers`)]);
    };
    try {
      for (let i = 0; i < 3; i++) {
        await answered(10);
        s.reloadNginx();
      }
      await answered(10);
    } finally {
      stop = true;
      await Promise.all(loops);
    }

    const failed = results.filter(([, st]) => st !== 200);
    assert.deepEqual(failed, [], `${failed.length} of ${results.length} requests failed`);
    assert.ok(results.length >= 30, `only ${results.length} requests`);
    await waitFor(() => {
      const now = s.nginxWorkers();
      return now.length > 0 && now.every((p) => !workersBefore.includes(p));
    }, 'new nginx workers', { detail: () => `before ${workersBefore}, now ${s.nginxWorkers()}` });
  });
});

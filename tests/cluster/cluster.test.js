'use strict';
/*
 * Scale-out, for real: two backend hosts, each in its own network
 * namespace running nginx and every program, sharing one PostgreSQL; a
 * front nginx that balances across them; the simulator as the sentc API.
 * Needs root (ip netns, veth pairs).
 *
 *   root namespace                           namespace sbc<pid>a
 *     test, front nginx 127.0.0.1:P ──veth── 10.N.1.2:8080 host A: nginx + programs
 *                                   ──veth── 10.N.2.2:8080 host B: nginx + programs
 *     simulator, PostgreSQL on 10.N.0.1      namespace sbc<pid>b
 *
 * Every name carries this process's pid, and everything it starts lives
 * under /tmp/sb-cluster-<pid>: a run that was killed leaves names no
 * other run uses, and the next run removes what it left (its pid is gone).
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { sleep, freePort, waitFor, WAIT_MS } = require('../lib/common');
const { TOP, BUILD, STACK_ENV, pgUri, psql, readEnv, registerInput } = require('../integration/harness');
const { genKeyEnv } = require('../sentc-sim/keys');

const PID = process.pid;
const BASE = `/tmp/sb-cluster-${PID}`;
const PREFIX = `sbc${PID}`;
const HOST_PORT = 8080;
const FAIL_TIMEOUT_S = 2;	// the front's fail_timeout: how soon it tries a failed host again
const CUT_MS = 3000;		// how long host A is cut off at least

function ip(...args) {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

/* ip, for what may already be gone. */
function ipQuiet(...args) {
  try { return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }); } catch { return ''; }
}

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/* Stops what the run under dir started, and removes it all. */
function cleanup(dir, prefix) {
  for (const h of ['a', 'b']) {
    const run = path.join(dir, h);
    if (fs.existsSync(run)) {
      try {
        execFileSync(path.join(TOP, 'nginx/stack'), ['stop'], { env: { ...process.env, RUN_DIR: run }, stdio: 'ignore' });
      } catch { /* already gone */ }
    }
  }
  // Each runs in a process group of its own: the front nginx's workers go
  // with their master.
  for (const f of ['front.pid', 'sim.pid']) {
    try { process.kill(-Number(fs.readFileSync(path.join(dir, f), 'utf8')), 'SIGKILL'); } catch { /* gone */ }
  }
  if (fs.existsSync(path.join(dir, 'pg'))) {
    try { execFileSync(path.join(TOP, 'tests/pg-server'), ['stop', path.join(dir, 'pg')], { stdio: 'ignore' }); } catch { /* gone */ }
  }
  for (const ns of [`${prefix}a`, `${prefix}b`]) {
    for (const p of ipQuiet('netns', 'pids', ns).split('\n').filter(Boolean)) {
      try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
    }
    ipQuiet('netns', 'del', ns);
  }
  for (const l of ['s', 'a', 'b']) ipQuiet('link', 'del', `${prefix}${l}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

/* What killed runs left behind. */
function sweep() {
  for (const name of fs.readdirSync('/tmp')) {
    const m = /^sb-cluster-(\d+)$/.exec(name);
    if (m && Number(m[1]) !== PID && !alive(Number(m[1]))) cleanup(path.join('/tmp', name), `sbc${m[1]}`);
  }
  for (const ns of ip('netns', 'list').split('\n')) {
    const m = /^sbc(\d+)[ab]\b/.exec(ns);
    if (m && !alive(Number(m[1]))) cleanup(`/tmp/sb-cluster-${m[1]}`, `sbc${m[1]}`);
  }
  for (const line of ip('-o', 'link').split('\n')) {
    const m = /^\d+: (sbc(\d+)[sab])[@:]/.exec(line);
    if (m && !alive(Number(m[2]))) ipQuiet('link', 'del', m[1]);
  }
}

/* A 10.N.0.0/16 that no interface here uses. */
function freeNet() {
  const used = ip('-o', '-4', 'addr').match(/inet 10\.(\d+)\./g) || [];
  for (;;) {
    const n = 64 + crypto.randomInt(190);
    if (!used.includes(`inet 10.${n}.`)) return `10.${n}`;
  }
}

/* An HTTP request; body an object (sent as JSON) or undefined. */
async function request(base, method, urlPath, { body, headers = {}, timeoutMs = WAIT_MS } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(base + urlPath, init);
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json, upstream: res.headers.get('x-upstream') };
}

function frontConf(dir, port, hosts) {
  return `# The front of the cluster test: docs/SCALING.md shows the same.
${process.getuid() === 0 ? 'user root;' : ''}
worker_processes 2;
daemon off;
pid ${dir}/front.nginx.pid;
error_log ${dir}/front-error.log warn;
events { worker_connections 1024; }
http {
	log_format upstream '$msec $request_method $uri $status $upstream_addr $upstream_status $request_time';
	access_log ${dir}/front-access.log upstream;
	client_body_temp_path ${dir}/tmp/body;
	proxy_temp_path ${dir}/tmp/proxy;
	fastcgi_temp_path ${dir}/tmp/fastcgi;
	uwsgi_temp_path ${dir}/tmp/uwsgi;
	scgi_temp_path ${dir}/tmp/scgi;
	client_max_body_size 2m;

	upstream sentc_backend {
		zone sentc_backend 64k;
${hosts.map((h) => `\t\tserver ${h}:${HOST_PORT} max_fails=1 fail_timeout=${FAIL_TIMEOUT_S}s;`).join('\n')}
	}

	server {
		listen 127.0.0.1:${port};
		location / {
			proxy_pass http://sentc_backend;
			proxy_http_version 1.1;
			proxy_set_header Host $host;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
			proxy_connect_timeout 1s;
			proxy_read_timeout 30s;
			proxy_next_upstream error timeout;
			proxy_next_upstream_tries 2;
			add_header X-Upstream $upstream_addr always;
		}
	}
}
`;
}

describe('two backend hosts behind one nginx, one PostgreSQL', () => {
  const c = {};	// the cluster: addresses, processes, config

  before(async () => {
    assert.equal(process.getuid(), 0, 'the cluster test needs root: ip netns and veth pairs');
    sweep();
    fs.mkdirSync(BASE, { recursive: true });
    const n = freeNet();
    c.svc = `${n}.0.1`;
    c.hosts = { a: `${n}.1.2`, b: `${n}.2.2` };
    c.gw = { a: `${n}.1.1`, b: `${n}.2.1` };
    c.ns = { a: `${PREFIX}a`, b: `${PREFIX}b` };

    // The shared services' address, on a veth pair of its own.
    ip('link', 'add', `${PREFIX}s`, 'type', 'veth', 'peer', 'name', `${PREFIX}t`);
    ip('addr', 'add', `${c.svc}/32`, 'dev', `${PREFIX}s`);
    ip('link', 'set', `${PREFIX}s`, 'up');
    ip('link', 'set', `${PREFIX}t`, 'up');
    // Each host: a namespace, a veth pair into it, a default route back.
    for (const [h, i] of [['a', 1], ['b', 2]]) {
      ip('netns', 'add', c.ns[h]);
      ip('link', 'add', `${PREFIX}${h}`, 'type', 'veth', 'peer', 'name', 'veth0', 'netns', c.ns[h]);
      ip('addr', 'add', `${n}.${i}.1/24`, 'dev', `${PREFIX}${h}`);
      ip('link', 'set', `${PREFIX}${h}`, 'up');
      ip('-n', c.ns[h], 'addr', 'add', `${n}.${i}.2/24`, 'dev', 'veth0');
      ip('-n', c.ns[h], 'link', 'set', 'veth0', 'up');
      ip('-n', c.ns[h], 'link', 'set', 'lo', 'up');
      ip('-n', c.ns[h], 'route', 'add', 'default', 'via', `${n}.${i}.1`);
    }

    // One PostgreSQL for both hosts, password required.
    execFileSync(path.join(TOP, 'tests/pg-server'), ['start', `${BASE}/pg`], {
      env: { ...process.env, LISTEN: c.svc, PG_ALLOW: `${n}.0.0/16` }, stdio: ['ignore', 'ignore', 'inherit'],
    });
    c.pg = JSON.parse(fs.readFileSync(`${BASE}/pg/conn.json`, 'utf8'));
    psql('postgres', 'CREATE DATABASE sentc', c.pg);

    // One config for both hosts: the same tokens, keys and database.
    const k = genKeyEnv();
    const tok = () => crypto.randomBytes(32).toString('base64url');
    c.config = `${BASE}/backend.env`;
    fs.writeFileSync(c.config, [
      `SENTC_PUBLIC_TOKEN=${tok()}`,
      `SENTC_SECRET_TOKEN=${tok()}`,
      `SENTC_JWT_KEY_ID=${k.kid}`,
      `SENTC_JWT_VERIFY_KEY=${k.verifyKeyB64}`,
      `SENTC_JWT_SIGN_KEY=${k.signKeyB64}`,
      `SENTC_BACKEND_DB=${pgUri('sentc', c.pg)}`,
      `SENTC_BACKEND_COOKIE_KEY=${crypto.randomBytes(32).toString('base64')}`,
      // Longer than the cut, so that what was in flight on A finishes once
      // it is back.
      'SENTC_BACKEND_UPSTREAM_TIMEOUT_MS=20000',
      '',
    ].join('\n'), { mode: 0o600 });

    // The simulator, reachable from both hosts.
    const sim = spawn('node', [path.join(TOP, 'tests/sentc-sim/sim.js'), '--config', c.config, '--host', c.svc, '--port', '0'],
      { stdio: ['ignore', 'pipe', fs.openSync(`${BASE}/sim.log`, 'a')], detached: true });
    fs.writeFileSync(`${BASE}/sim.pid`, String(sim.pid));
    const line = await new Promise((resolve, reject) => {
      const died = () => reject(new Error(`the simulator did not start: ${fs.readFileSync(`${BASE}/sim.log`, 'utf8')}`));
      sim.once('exit', died);
      sim.stdout.once('data', (d) => {
        sim.off('exit', died);
        resolve(String(d));
      });
    });
    c.simBase = `http://${c.svc}:${/:(\d+)/.exec(line)[1]}`;
    fs.appendFileSync(c.config, `SENTC_API_URL=${c.simBase}\n`);
    c.env = readEnv(c.config);

    // Each host: nginx and every program, in its namespace.
    for (const h of ['a', 'b']) startHost(h);

    // The front, in the root namespace.
    c.frontPort = await freePort();
    c.front = `http://127.0.0.1:${c.frontPort}`;
    fs.mkdirSync(`${BASE}/front/tmp`, { recursive: true });
    fs.writeFileSync(`${BASE}/front/nginx.conf`, frontConf(`${BASE}/front`, c.frontPort, [c.hosts.a, c.hosts.b]));
    const front = spawn('nginx', ['-p', `${BASE}/front`, '-c', `${BASE}/front/nginx.conf`, '-e', `${BASE}/front/front-error.log`],
      { stdio: 'ignore', detached: true });
    fs.writeFileSync(`${BASE}/front.pid`, String(front.pid));
    await waitFor(async () => {
      try {
        return (await request(c.front, 'GET', '/backend/health', { timeoutMs: 2000 })).status === 200;
      } catch {
        return false;	// not yet
      }
    }, 'the front to answer /backend/health');
  });

  function startHost(h) {
    execFileSync('ip', ['netns', 'exec', c.ns[h], path.join(TOP, 'nginx/stack'), 'start'], {
      env: { ...STACK_ENV, ...process.env, LISTEN: c.hosts[h], PORT: String(HOST_PORT), RUN_DIR: `${BASE}/${h}`, SENTC_CONFIG: c.config, BUILD },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }

  after(() => {
    try {
      for (const h of ['a', 'b']) {
        if (!fs.existsSync(`${BASE}/${h}/backend.log`)) continue;
        const log = fs.readFileSync(`${BASE}/${h}/backend.log`, 'utf8');
        assert.ok(!log.includes(c.pg.password), `the database password in host ${h}'s log`);
        assert.ok(!log.includes(c.env.SENTC_SECRET_TOKEN), `the secret token in host ${h}'s log`);
        assert.doesNotMatch(log, /ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer/);
      }
    } finally {
      if (!process.env.SB_KEEP) cleanup(BASE, PREFIX);
    }
  });

  const host = (h) => `http://${c.hosts[h]}:${HOST_PORT}`;
  const sim = async (method, what, body) => (await request(c.simBase, method, `/__sim/${what}`, { body })).json;
  const nameOf = (upstream) => (upstream === `${c.hosts.a}:${HOST_PORT}` ? 'a' : upstream === `${c.hosts.b}:${HOST_PORT}` ? 'b' : upstream);
  let seq = 0;
  const uniq = (p) => `${p}-${PID}-${++seq}`;

  /* Registers through base, logs in at the simulator. */
  async function user(base, data) {
    const name = uniq('cl');
    const r = await request(base, 'POST', '/api/v1/register', { body: { ...registerInput(name), user_data: data } });
    assert.equal(r.status, 200, r.text);
    const { jwt } = await sim('POST', 'session', { user_id: r.json.result.user_id });
    return { name, id: r.json.result.user_id, auth: { authorization: `Bearer ${jwt}` } };
  }

  it('registers on host A, and host B serves that user\'s data', async () => {
    const u = await user(host('a'), { from: 'a' });
    let r = await request(host('b'), 'GET', '/backend/me', { headers: u.auth });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.result, { from: 'a' });
    r = await request(host('b'), 'PUT', '/backend/me', { body: { from: 'b' }, headers: u.auth });
    assert.equal(r.status, 200, r.text);
    r = await request(host('a'), 'GET', '/backend/me', { headers: u.auth });
    assert.deepEqual(r.json.result, { from: 'b' }, 'a write on B is read on A');
  });

  it('opens on host B a cookie session made on host A: the cookie key is shared config', async () => {
    const u = await user(host('a'), { cookie: true });
    const sess = await sim('POST', 'session', { user_id: u.id });
    let r = await request(host('a'), 'POST', '/backend/session', {
      body: { refresh_token: sess.refresh_token }, headers: { authorization: `Bearer ${sess.jwt}` },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.result.user_data, { cookie: true });
    const cookie = r.headers.getSetCookie()[0].split(';')[0];
    const expired = (await sim('POST', 'session', { user_id: u.id, exp_in: -120 })).jwt;
    r = await request(host('b'), 'GET', '/backend/refresh', { headers: { authorization: `Bearer ${expired}`, cookie } });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(r.text.split('.')[1], 'base64url'));
    assert.equal(claims.aud, u.id);
    assert.equal(claims.fresh, false);
    // The new JWT works on either host.
    r = await request(host('a'), 'GET', '/backend/me', { headers: { authorization: `Bearer ${r.text}` } });
    assert.equal(r.status, 200, r.text);
  });

  it('ends on host B a cookie session logged out on host A: the end is in the shared database', async () => {
    const u = await user(host('a'), { cookie: 'end' });
    const sess = await sim('POST', 'session', { user_id: u.id });
    let r = await request(host('a'), 'POST', '/backend/session', {
      body: { refresh_token: sess.refresh_token }, headers: { authorization: `Bearer ${sess.jwt}` },
    });
    assert.equal(r.status, 200, r.text);
    const cookie = r.headers.getSetCookie()[0].split(';')[0];
    const expired = (await sim('POST', 'session', { user_id: u.id, exp_in: -120 })).jwt;
    const auth = { authorization: `Bearer ${expired}`, cookie };
    r = await request(host('b'), 'GET', '/backend/refresh', { headers: auth });
    assert.equal(r.status, 200, `the copy works on B before: ${r.text}`);
    r = await request(host('a'), 'POST', '/backend/logout', { headers: { cookie } });
    assert.equal(r.status, 200, r.text);
    // A copy of the cookie, sent to host B at once.
    r = await request(host('b'), 'GET', '/backend/refresh', { headers: auth });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.err_code, 20031);
  });

  it('balances across both hosts through the front', async () => {
    const u = await user(c.front, { n: 0 });
    const served = new Set();
    for (let i = 1; i <= 6; i++) {
      const r = await request(c.front, 'PUT', '/backend/me', { body: { n: i }, headers: u.auth });
      assert.equal(r.status, 200, r.text);
      served.add(nameOf(r.upstream));
      const g = await request(c.front, 'GET', '/backend/me', { headers: u.auth });
      assert.deepEqual(g.json.result, { n: i }, 'each read sees the write before it, whichever host served it');
      served.add(nameOf(g.upstream));
    }
    assert.deepEqual([...served].sort(), ['a', 'b']);
    const rows = psql('sentc', `SELECT user_data FROM users WHERE user_id = '${u.id}'`, c.pg);
    assert.deepEqual(JSON.parse(rows), { n: 6 });
  });

  it('fails over when host A is cut off mid-load, loses nothing, and uses A again once it is back', async () => {
    const log = [];	// every request: when, what, how it ended, who served it
    const users = [];	// { id, name, acked, unknown: [] }
    let stop = false;

    async function timed(what, fn) {
      const e = { what, t0: Date.now() };
      log.push(e);
      try {
        const r = await fn();
        Object.assign(e, { t1: Date.now(), status: r.status, upstream: r.upstream || '', ok: r.status === 200 });
        return r;
      } catch (err) {
        Object.assign(e, { t1: Date.now(), status: 0, upstream: '', ok: false, error: String(err) });
        return null;
      }
    }

    async function client(k) {
      try {
        await clientLoop(k);
      } catch (err) {
        stop = true;
        throw err;
      }
    }

    async function clientLoop(k) {
      while (!stop) {
        const name = uniq(`load${k}`);
        const data = { k, n: 0 };
        const r = await timed('register', () => request(c.front, 'POST', '/api/v1/register',
          { body: { ...registerInput(name), user_data: data } }));
        if (!r || r.status !== 200) {
          await sleep(50);
          continue;
        }
        const u = { id: r.json.result.user_id, name, acked: data, unknown: [] };
        users.push(u);
        const { jwt } = await sim('POST', 'session', { user_id: u.id });
        const auth = { authorization: `Bearer ${jwt}` };
        for (let n = 1; n <= 8 && !stop; n++) {
          const next = { k, n };
          const p = await timed('put', () => request(c.front, 'PUT', '/backend/me', { body: next, headers: auth }));
          if (p && p.status === 200) {
            u.acked = next;
            u.unknown = [];
          } else {
            u.unknown.push(next);
          }
          const g = await timed('get', () => request(c.front, 'GET', '/backend/me', { headers: auth }));
          if (g && g.status === 200 && u.unknown.length === 0)
            assert.deepEqual(g.json.result, u.acked, 'a read after a write sees it, on either host');
        }
      }
    }

    const A = `${c.hosts.a}:${HOST_PORT}`;
    const B = `${c.hosts.b}:${HOST_PORT}`;
    const clients = [0, 1, 2, 3].map(client);
    // Each phase lasts at least ms, and until what the assertions below
    // look at has happened, however slow the machine (or a client failed:
    // then stop, and its failure is reported).
    const phase = (ms, what, fn) => Promise.all([sleep(ms), waitFor(() => stop || fn(), what,
      { detail: () => `${log.length} requests, ${log.filter((e) => e.t1 !== undefined && !e.ok).length} failed` })]);
    let cutStart;
    let cutDone;
    let backStart;
    try {
      await phase(1500, 'both hosts to serve through the front',
        () => log.some((e) => e.upstream === A) && log.some((e) => e.upstream === B));
      cutStart = Date.now();
      ip('-n', c.ns.a, 'link', 'set', 'veth0', 'down');
      cutDone = Date.now();
      // Ten requests during the cut (begun 1.5 s before it ends at the latest: see "during" below), one failed over.
      await phase(CUT_MS, 'ten requests answered during the cut, one of them failed over from A to B', () => {
        const late = Date.now() - 1500;
        const during = log.filter((e) => e.t0 > cutDone && e.t0 < late && e.t1 !== undefined);
        return during.length >= 10 && during.some((e) => e.upstream === `${A}, ${B}`);
      });
      backStart = Date.now();
      ip('-n', c.ns.a, 'link', 'set', 'veth0', 'up');
      ip('-n', c.ns.a, 'route', 'replace', 'default', 'via', c.gw.a);
      await phase((FAIL_TIMEOUT_S + 3) * 1000, 'host A to serve again once it is back, and 8 users registered',
        () => users.length >= 8 && log.some((e) => e.t0 > backStart + FAIL_TIMEOUT_S * 1000 + 500 && e.upstream === A));
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    const before = log.filter((e) => e.t1 < cutStart);
    // A request that tried A within a connect timeout of its return may reach it.
    const during = log.filter((e) => e.t0 > cutDone && e.t0 < backStart - 1500);
    const late = log.filter((e) => e.t0 > backStart + FAIL_TIMEOUT_S * 1000 + 500);
    const failed = log.filter((e) => !e.ok);
    const summary = JSON.stringify({
      failovers: during.filter((e) => e.upstream === `${A}, ${B}`).length,
      slowest: Math.max(...log.map((e) => e.t1 - e.t0)),
      total: log.length, before: before.length, during: during.length, late: late.length,
      failed: failed.map((e) => ({ what: e.what, t0: e.t0 - cutStart, t1: e.t1 - cutStart, status: e.status, error: e.error })),
    });

    assert.ok(before.some((e) => e.upstream === A) && before.some((e) => e.upstream === B), `both hosts served before the cut: ${summary}`);
    // Only requests already in flight when the link went down may fail.
    for (const e of failed) assert.ok(e.t0 < cutDone && e.t1 > cutStart, `a request failed that was not in flight at the cut: ${summary}`);
    // While A is cut off, B answers everything; the front tried A and moved on.
    assert.ok(during.length >= 10, `load went on during the cut: ${summary}`);
    for (const e of during) {
      assert.ok(e.ok, `a request during the cut failed: ${summary}`);
      assert.ok(e.upstream.endsWith(B), `${e.what} during the cut served by ${e.upstream}`);
    }
    assert.ok(during.some((e) => e.upstream === `${A}, ${B}`), `the front failed over from A to B: ${summary}`);
    if (process.env.SB_VERBOSE) console.log(summary);
    // A is used again once it is back.
    assert.ok(late.some((e) => e.upstream === A), `host A served again after it came back: ${summary}`);

    // The database matches the simulator: the same users, each with the
    // data of the last write it acknowledged (or of a write whose answer
    // was lost in flight, which may have landed).
    const state = await sim('GET', 'state');
    const simUsers = new Map(state.users.filter((x) => x.device_identifier.startsWith('load')).map((x) => [x.user_id, x]));
    const dbUsers = new Map(JSON.parse(psql('sentc', "SELECT coalesce(json_agg(t), '[]') FROM "
      + "(SELECT user_id, identifier, user_data FROM users WHERE identifier LIKE 'load%') t", c.pg)).map((x) => [x.user_id, x]));
    assert.deepEqual([...dbUsers.keys()].sort(), [...simUsers.keys()].sort(), 'the same users in the database and at sentc');
    for (const [id, row] of dbUsers) assert.equal(row.identifier, simUsers.get(id).device_identifier);
    assert.ok(users.length >= 8, `users registered under load: ${users.length}`);
    for (const u of users) {
      const row = dbUsers.get(u.id);
      assert.ok(row, `user ${u.name} registered with 200 is in the database`);
      const stored = JSON.parse(row.user_data);
      assert.ok([u.acked, ...u.unknown].some((d) => JSON.stringify(d) === JSON.stringify(stored)),
        `${u.name}: stored ${row.user_data}, last acknowledged ${JSON.stringify(u.acked)}`);
    }
  });
});

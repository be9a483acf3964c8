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
 * Besides serving and failing over between the hosts, it proves what makes
 * them one (docs/SCALING.md): an end of access through A is in force on B
 * at once and reaches B's listeners; a PostgreSQL restart under load costs
 * 503 envelopes only, the hosts reconnect by themselves and the rows match
 * the simulator's state, with the connections per host within their bound;
 * a host started while PostgreSQL is down serves, is not ready, and becomes
 * ready by itself; a host killed with SIGKILL mid-write leaves nothing
 * half-written while the other serves on; and a promoted standby takes
 * over through libpq's multi-host connection string.
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
const WORKERS = 2;
const DB_CONNECTIONS = 2;
// The programs that use the store each hold workers × connections; those
// that cache group access one listening connection more.
const DB_PROGRAMS = fs.readdirSync(path.join(TOP, BUILD, 'bin')).filter((n) => !['metrics', 'register-device', 'verify-login'].includes(n));
const LISTENERS = ['group', 'group-data', 'items'];
const HOST_BOUND = DB_PROGRAMS.length * WORKERS * DB_CONNECTIONS + LISTENERS.length;

/* The PostgreSQL server binaries (Debian: per major version, off PATH). */
function pgBin(name) {
  const dirs = fs.readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`)
    .filter((d) => fs.existsSync(`${d}/${name}`)).sort((x, y) => Number(path.basename(path.dirname(x))) - Number(path.basename(path.dirname(y))));
  return `${dirs[dirs.length - 1]}/${name}`;
}

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
  if (fs.existsSync(path.join(dir, 'standby', 'data'))) {
    try {
      execFileSync('runuser', ['-u', 'postgres', '--', pgBin('pg_ctl'), '-D', path.join(dir, 'standby', 'data'), '-m', 'immediate', '-w', 'stop'], { stdio: 'ignore' });
    } catch { /* gone */ }
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
      // Long: an end of access must reach the other host through the
      // database (docs/SCALING.md), not by expiry.
      'SENTC_BACKEND_ACCESS_CACHE_TTL=300',
      `SENTC_BACKEND_WORKERS=${WORKERS}`,
      `SENTC_BACKEND_DB_CONNECTIONS=${DB_CONNECTIONS}`,
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

  /* pg_ctl on the shared server, as its owner. */
  const pgCtl = (...args) => execFileSync('runuser', ['-u', 'postgres', '--', pgBin('pg_ctl'), '-D', `${BASE}/pg/data`, '-w', '-t', '60', ...args],
    { stdio: ['ignore', 'ignore', 'ignore'] });
  /* The same, while the test's own requests go on. */
  const pgCtlAsync = (...args) => new Promise((resolve, reject) => {
    const p = spawn('runuser', ['-u', 'postgres', '--', pgBin('pg_ctl'), '-D', `${BASE}/pg/data`, '-w', '-t', '60', ...args], { stdio: 'ignore' });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg_ctl ${args.join(' ')}: ${code}`))));
  });
  const hostLog = (h) => (fs.existsSync(`${BASE}/${h}/backend.log`) ? fs.readFileSync(`${BASE}/${h}/backend.log`, 'utf8') : '');
  const logCount = (h, re) => hostLog(h).split('\n').filter((l) => re.test(l)).length;
  /* The backend's connections to the shared database, per host and kind. */
  function connections() {
    const rows = JSON.parse(psql('postgres', "SELECT coalesce(json_agg(t), '[]') FROM (SELECT host(client_addr) AS addr, "
      + "application_name AS app, count(*)::int AS n FROM pg_stat_activity WHERE datname = 'sentc' GROUP BY 1, 2) t", c.pg));
    const per = { a: { total: 0, listen: 0 }, b: { total: 0, listen: 0 } };
    for (const r of rows) {
      const h = r.addr === c.hosts.a ? 'a' : r.addr === c.hosts.b ? 'b' : null;
      if (!h) continue;
      per[h].total += r.n;
      if (r.app === 'sentc-backend-listen') per[h].listen += r.n;
    }
    return per;
  }
  const listening = () => {
    const p = connections();
    return p.a.listen === LISTENERS.length && p.b.listen === LISTENERS.length;
  };

  it('refuses on host B an access revoked through host A at once, and B\'s listeners drop its cached answers', async () => {
    await waitFor(listening, 'every program of both hosts to listen', { detail: () => JSON.stringify(connections()) });
    const owner = await user(host('a'), {});
    const member = await user(host('a'), {});
    let r = await request(host('a'), 'POST', '/api/v1/group', { body: { keys: 'opaque' }, headers: owner.auth });
    assert.equal(r.status, 200, r.text);
    const gid = r.json.result.group_id;
    await sim('POST', 'group/member', { group_id: gid, user_id: member.id, rank: 3 });
    // Cached on B (TTL 300 s): the second ask does not reach sentc.
    for (let i = 0; i < 2; i++) {
      r = await request(host('b'), 'GET', `/api/v1/group/${gid}/light`, { headers: member.auth });
      assert.equal(r.status, 200, r.text);
    }
    await sim('DELETE', 'log');
    r = await request(host('b'), 'GET', `/api/v1/group/${gid}/light`, { headers: member.auth });
    assert.equal(r.status, 200, r.text);
    assert.equal((await sim('GET', 'log')).requests.filter((x) => x.path.endsWith('/light')).length, 0, 'cached on B');
    const dropped = new RegExp(`group\\[\\d+\\] info: invalidation: 1 cached access answers naming ${gid} dropped`);
    const before = logCount('b', dropped);
    // The owner deletes the group through A.
    r = await request(host('a'), 'DELETE', `/api/v1/group/${gid}`, { headers: owner.auth });
    assert.equal(r.status, 200, r.text);
    const t0 = Date.now();
    // B refuses the very next request: no waiting for a TTL.
    r = await request(host('b'), 'GET', `/api/v1/group/${gid}/light`, { headers: member.auth });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.err_code, 310, r.text);
    // And B's group program was told through LISTEN/NOTIFY.
    await waitFor(() => logCount('b', dropped) > before, 'host B\'s group program to drop the deleted group\'s cached answers');
    if (process.env.SB_VERBOSE) console.log(`told on B after ${Date.now() - t0} ms at most`);
  });

  /*
   * Load through the front: registers, then writes and reads of each
   * user's data. Returns { log, users, stop() }.
   */
  function load(clients, { register = true, pool = [] } = {}) {
    const st = { log: [], users: [...pool], stop: false };
    async function timed(what, fn) {
      const e = { what, t0: Date.now() };
      st.log.push(e);
      try {
        const r = await fn();
        Object.assign(e, { t1: Date.now(), status: r.status, json: r.json, upstream: r.upstream || '', ok: r.status === 200 });
        return r;
      } catch (err) {
        Object.assign(e, { t1: Date.now(), status: 0, ok: false, error: String(err) });
        return null;
      }
    }
    async function one(k) {
      let round = 0;
      while (!st.stop) {
        let u;
        if (register) {
          const name = uniq(`rs${k}`);
          const data = { k, n: 0 };
          const r = await timed('register', () => request(c.front, 'POST', '/api/v1/register',
            { body: { ...registerInput(name), user_data: data } }));
          if (!r || r.status !== 200) {
            await sleep(50);
            continue;
          }
          u = { id: r.json.result.user_id, name, acked: data, unknown: [] };
          u.auth = { authorization: `Bearer ${(await sim('POST', 'session', { user_id: u.id })).jwt}` };
          st.users.push(u);
        } else {
          u = pool[k % pool.length];
          round++;
        }
        for (let n = 1; n <= 6 && !st.stop; n++) {
          const next = { k, n, r: round };
          const p = await timed('put', () => request(c.front, 'PUT', '/backend/me', { body: next, headers: u.auth }));
          if (p && p.status === 200) {
            u.acked = next;
            u.unknown = [];
          } else {
            u.unknown.push(next);
          }
          await timed('get', () => request(c.front, 'GET', '/backend/me', { headers: u.auth }));
        }
      }
    }
    const running = Array.from({ length: clients }, (_, k) => one(k).catch((err) => { st.stop = true; throw err; }));
    st.finish = async () => {
      st.stop = true;
      await Promise.all(running);
    };
    return st;
  }

  /* The database against the simulator: the same users; each user's data a write it sent. */
  async function sameAsSim(users, prefix) {
    const state = await sim('GET', 'state');
    const simUsers = new Map(state.users.filter((x) => x.device_identifier.startsWith(prefix)).map((x) => [x.user_id, x]));
    const dbUsers = new Map(JSON.parse(psql('sentc', "SELECT coalesce(json_agg(t), '[]') FROM "
      + `(SELECT user_id, identifier, user_data FROM users WHERE identifier LIKE '${prefix}%') t`, c.pg)).map((x) => [x.user_id, x]));
    assert.deepEqual([...dbUsers.keys()].sort(), [...simUsers.keys()].sort(), 'the same users in the database and at sentc');
    for (const u of users) {
      const row = dbUsers.get(u.id);
      assert.ok(row, `user ${u.name} registered with 200 is in the database`);
      const stored = JSON.parse(row.user_data);
      assert.ok([u.acked, ...u.unknown].some((d) => JSON.stringify(d) === JSON.stringify(stored)),
        `${u.name}: stored ${row.user_data}, last acknowledged ${JSON.stringify(u.acked)}`);
    }
  }

  it('survives a PostgreSQL restart under load: what fails gets a 503 envelope, both hosts reconnect by themselves, nothing lost or duplicated, connections bounded', async () => {
    await waitFor(listening, 'every program of both hosts to listen', { detail: () => JSON.stringify(connections()) });
    const killedBefore = logCount('a', /killed by signal/) + logCount('b', /killed by signal/);
    const st = load(6);
    let most = { a: 0, b: 0 };
    let restartStart;
    let restartDone;
    try {
      await waitFor(() => st.stop || st.users.length >= 4, 'load under way');
      for (let i = 0; i < 5; i++) {
        const p = connections();
        most = { a: Math.max(most.a, p.a.total), b: Math.max(most.b, p.b.total) };
        await sleep(100);
      }
      restartStart = Date.now();
      await pgCtlAsync('-m', 'fast', 'restart');
      restartDone = Date.now();
      // Served again: 20 requests in a row begun after the restart, all answered 200.
      await waitFor(() => {
        if (st.stop) return true;
        const after = st.log.filter((e) => e.t0 > restartDone && e.t1 !== undefined);
        return after.length >= 20 && after.slice(-20).every((e) => e.ok);
      }, 'service to recover after the restart', { detail: () => JSON.stringify(st.log.slice(-5)) });
      for (let i = 0; i < 5; i++) {
        const p = connections();
        most = { a: Math.max(most.a, p.a.total), b: Math.max(most.b, p.b.total) };
        await sleep(100);
      }
    } finally {
      await st.finish();
    }
    const failed = st.log.filter((e) => !e.ok);
    const summary = JSON.stringify({ total: st.log.length, failed: failed.length, most, bound: HOST_BOUND,
      kinds: failed.slice(0, 10).map((e) => ({ what: e.what, status: e.status, code: e.json && e.json.err_code, t0: e.t0 - restartStart })) });
    if (process.env.SB_VERBOSE) console.log(summary);
    // Every failure: a clear 503 envelope, while the server restarted.
    for (const e of failed) {
      assert.equal(e.status, 503, `a failure other than 503: ${summary}`);
      assert.equal(e.json && e.json.status, false, `a 503 without the envelope: ${summary}`);
      assert.ok([20020, 20026].includes(e.json.err_code), `503 code ${e.json.err_code}: ${summary}`);
    }
    assert.equal(logCount('a', /killed by signal/) + logCount('b', /killed by signal/), killedBefore, 'no worker crashed');
    // Both hosts serve again, directly, and are ready.
    for (const h of ['a', 'b']) {
      const r = await request(host(h), 'GET', '/backend/ready');
      assert.equal(r.status, 200, `${h}: ${r.text}`);
    }
    // Bounded: per host, programs × (workers × connections + a listener).
    assert.ok(most.a <= HOST_BOUND && most.b <= HOST_BOUND, `connections per host: ${summary}`);
    await waitFor(listening, 'every listener back after the restart', { detail: () => JSON.stringify(connections()) });
    await sameAsSim(st.users, 'rs');
  });

  it('a host started while PostgreSQL is down serves, is not ready, and becomes ready by itself when it comes up', async () => {
    const u0 = await user(host('a'), { early: true });
    execFileSync(path.join(TOP, 'nginx/stack'), ['stop'], { env: { ...process.env, RUN_DIR: `${BASE}/b` }, stdio: 'ignore' });
    pgCtl('-m', 'fast', 'stop');
    let up = false;
    try {
      const before = logCount('b', /database: not reachable at start; serving anyway/);
      startHost('b');
      // (A connection kept alive to the B that was stopped fails once.)
      let r;
      await waitFor(async () => {
        try {
          r = await request(host('b'), 'GET', '/backend/health');
          return true;
        } catch {
          return false;
        }
      }, 'host B to answer');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.result.database, false);
      r = await request(host('b'), 'GET', '/backend/ready');
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.err_code, 20026);
      assert.ok(logCount('b', /database: not reachable at start; serving anyway/) > before);
      await waitFor(() => logCount('b', /database: cannot be reached .*try 2, next in 2 s/) > 0, 'each try logged');
      r = await request(host('b'), 'GET', '/backend/me', { headers: u0.auth });
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.err_code, 20020);
      // restart starts a stopped server with the options it last ran with.
      pgCtl('-m', 'fast', 'restart');
      up = true;
    } finally {
      if (!up) pgCtl('-m', 'fast', 'restart');
    }
    await waitFor(async () => (await request(host('b'), 'GET', '/backend/ready')).status === 200, 'host B ready once PostgreSQL is up');
    await waitFor(async () => (await request(host('a'), 'GET', '/backend/ready')).status === 200, 'host A ready again');
    const u = await user(host('b'), { late: true });
    const r = await request(host('a'), 'GET', '/backend/me', { headers: u.auth });
    assert.deepEqual(r.json.result, { late: true });
  });

  it('a host killed with SIGKILL during writes leaves no half-written state; the other goes on serving', async () => {
    await waitFor(listening, 'every program of both hosts to listen', { detail: () => JSON.stringify(connections()) });
    // Users made before: the load only writes (no register is cut in half).
    const pool = [];
    for (let i = 0; i < 4; i++) {
      const u = await user(host('a'), { k: i, n: 0 });
      pool.push({ ...u, acked: { k: i, n: 0 }, unknown: [] });
    }
    // Items with search hashes and sortable values, written in one transaction each.
    const owner = pool[0];
    let r = await request(host('a'), 'POST', '/api/v1/group', { body: { keys: 'opaque' }, headers: owner.auth });
    const gid = r.json.result.group_id;
    let stopItems = false;
    const itemLog = [];
    const itemWriter = (async () => {
      let n = 0;
      while (!stopItems) {
        const iid = crypto.randomUUID();
        const hs = [crypto.createHash('sha256').update(`w${n}`).digest('base64url'), crypto.createHash('sha256').update(`v${n}`).digest('base64url')];
        const e = { iid, t0: Date.now() };
        itemLog.push(e);
        try {
          const x = await request(c.front, 'PUT', `/backend/groups/${gid}/items/${iid}`,
            { body: { data: `d${n}`, hashes: [hs], sortable: { n: n++, m: 7 } }, headers: owner.auth });
          e.status = x.status;
        } catch (err) {
          e.status = 0;
        }
      }
    })();
    const st = load(4, { register: false, pool });
    const B = `${c.hosts.b}:${HOST_PORT}`;
    let killAt;
    try {
      await waitFor(() => st.stop || (st.log.some((e) => e.upstream === B) && itemLog.length >= 5), 'host B to serve writes');
      killAt = Date.now();
      for (const p of ipQuiet('netns', 'pids', c.ns.b).split('\n').filter(Boolean)) {
        try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
      }
      // A goes on serving: 30 requests begun after the kill answered 200 in a row.
      await waitFor(() => {
        if (st.stop) return true;
        const after = st.log.filter((e) => e.t0 > killAt + 500 && e.t1 !== undefined);
        return after.length >= 30 && after.slice(-30).every((e) => e.ok && !e.upstream.endsWith(B));
      }, 'host A to serve alone', { detail: () => JSON.stringify(st.log.slice(-3)) });
    } finally {
      stopItems = true;
      await st.finish();
      await itemWriter;
    }
    const summary = JSON.stringify({ total: st.log.length, failed: st.log.filter((e) => !e.ok).map((e) => ({ s: e.status, t0: e.t0 - killAt, t1: e.t1 - killAt })) });
    // Only what was in flight at the kill may have failed.
    for (const e of st.log.filter((x) => !x.ok)) assert.ok(e.t0 <= killAt + 1000, `a request failed well after the kill: ${summary}`);
    // Every user's data is a write it sent; the last acknowledged or one in flight.
    await sameAsSim(pool, 'cl');
    // Every item is whole: its row, its two hashes and both sortable values, or nothing.
    const rows = JSON.parse(psql('sentc', "SELECT coalesce(json_agg(t), '[]') FROM (SELECT i.item_id, "
      + '(SELECT count(*) FROM item_hashes h WHERE h.group_id = i.group_id AND h.item_id = i.item_id)::int AS hashes, '
      + '(SELECT count(*) FROM item_sortables s WHERE s.group_id = i.group_id AND s.item_id = i.item_id)::int AS sortables '
      + `FROM items i WHERE i.group_id = '${gid}') t`, c.pg));
    for (const x of rows) assert.deepEqual([x.hashes, x.sortables], [2, 2], `item ${x.item_id} half-written`);
    const stored = new Set(rows.map((x) => x.item_id));
    for (const e of itemLog) if (e.status === 200) assert.ok(stored.has(e.iid), `item ${e.iid} acknowledged and missing`);
    const orphans = psql('sentc', `SELECT count(*) FROM item_hashes h WHERE h.group_id = '${gid}' AND NOT EXISTS `
      + '(SELECT 1 FROM items i WHERE i.group_id = h.group_id AND i.item_id = h.item_id)', c.pg);
    assert.equal(orphans, '0');
  });

  it('switches to a promoted standby with a multi-host connection string (target_session_attrs=read-write)', async () => {
    // Host B was killed above: host A and the front go on.
    const sb = `${BASE}/standby`;
    fs.mkdirSync(sb, { recursive: true });
    execFileSync('chown', ['postgres:', sb]);
    fs.chmodSync(sb, 0o711);
    execFileSync('runuser', ['-u', 'postgres', '--', 'env', `PGPASSWORD=${c.pg.password}`, pgBin('pg_basebackup'),
      '-h', c.pg.host, '-p', String(c.pg.port), '-U', c.pg.user, '-D', `${sb}/data`, '-R', '-X', 'stream', '-c', 'fast'], { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('runuser', ['-u', 'postgres', '--', pgBin('pg_ctl'), '-D', `${sb}/data`, '-l', `${sb}/server.log`, '-w', '-t', '60', '-o',
      `-c port=5433 -c listen_addresses='${c.svc}' -c unix_socket_directories='${sb}' -c max_connections=300 -c fsync=off`, 'start'],
    { stdio: ['ignore', 'ignore', 'inherit'] });
    const standby = { ...c.pg, host: sb, port: 5433 };
    assert.equal(psql('sentc', 'SELECT pg_is_in_recovery()', standby), 't');

    // Both servers in the string; libpq keeps the one that takes writes.
    const multi = `host=${c.svc},${c.svc} port=${c.pg.port},5433 dbname=sentc user=${c.pg.user} password=${c.pg.password} target_session_attrs=read-write`;
    const cfg = fs.readFileSync(c.config, 'utf8').split('\n').filter((l) => !l.startsWith('SENTC_BACKEND_DB=') && l !== '');
    fs.writeFileSync(c.config, `${[...cfg, `SENTC_BACKEND_DB=${multi}`].join('\n')}\n`, { mode: 0o600 });
    const programs = fs.readdirSync(path.join(TOP, BUILD, 'bin'));
    for (const h of ['a', 'b']) {
      const masters = programs.map((n) => Number(fs.readFileSync(`${BASE}/${h}/pids/${n}`, 'utf8'))).filter(alive);
      if (masters.length === 0) continue;	// killed above
      const before = logCount(h, /info: reload complete/);
      for (const pid of masters) process.kill(pid, 'SIGHUP');
      await waitFor(() => logCount(h, /info: reload complete/) >= before + masters.length, `every program of host ${h} to reload`);
    }

    const u = await user(c.front, { v: 'before' });
    // The standby has it once it has replayed the primary's WAL.
    await waitFor(() => psql('sentc', `SELECT count(*) FROM users WHERE user_id = '${u.id}'`, standby) === '1', 'the standby to replay the write');

    // The primary goes; the standby is promoted.
    pgCtl('-m', 'immediate', 'stop');
    execFileSync('runuser', ['-u', 'postgres', '--', pgBin('pg_ctl'), '-D', `${sb}/data`, '-w', '-t', '60', 'promote'], { stdio: ['ignore', 'ignore', 'inherit'] });
    assert.equal(psql('sentc', 'SELECT pg_is_in_recovery()', standby), 'f');

    // Host A serves on the promoted server by itself: new connections land there.
    let r;
    await waitFor(async () => {
      r = await request(c.front, 'PUT', '/backend/me', { body: { v: 'after' }, headers: u.auth });
      return r.status === 200;
    }, 'a write through the front after the failover', { detail: () => `${r && r.status} ${r && r.text}` });
    r = await request(c.front, 'GET', '/backend/me', { headers: u.auth });
    assert.deepEqual(r.json.result, { v: 'after' });
    assert.deepEqual(JSON.parse(psql('sentc', `SELECT user_data FROM users WHERE user_id = '${u.id}'`, standby)), { v: 'after' });
    const u2 = await user(c.front, { v: 'new' });
    assert.equal(psql('sentc', `SELECT count(*) FROM users WHERE user_id = '${u2.id}'`, standby), '1');
    // The listeners moved too, and access answers are cached again.
    await waitFor(() => Number(psql('sentc', `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sentc-backend-listen' AND host(client_addr) = '${c.hosts.a}'`, standby)) === LISTENERS.length,
      'host A\'s listeners on the promoted server');
    await waitFor(async () => (await request(host('a'), 'GET', '/backend/ready')).status === 200, 'host A ready');
  });
});

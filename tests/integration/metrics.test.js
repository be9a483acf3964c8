'use strict';
/*
 * GET /backend/metrics: every program's counters in the Prometheus text
 * format, through nginx, to loopback only. Each count is checked against
 * what the test itself did: requests by program, method and status,
 * latency histograms, sentc API calls and faults by kind, JWT and access
 * cache hits and misses, workers alive and restarted.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { start, registerInput, waitFor, TOP, BUILD } = require('./harness');

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*",?)*)\})? (\S+)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/*
 * Parses the Prometheus text format (0.0.4) strictly: HELP and TYPE once
 * per family and before its samples, a family's samples together, names
 * and label sets well-formed, no sample twice, histograms cumulative and
 * ending in +Inf equal to _count. Returns Map(key -> value), key being
 * name{sorted labels}, and the families' types.
 */
function parseProm(text) {
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  const types = new Map();
  const helps = new Set();
  const samples = new Map();
  const done = new Set();
  let current = null;
  const familyOf = (name) => {
    for (const suffix of ['_bucket', '_sum', '_count']) {
      const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : null;
      if (base && types.get(base) === 'histogram') return base;
    }
    return name;
  };
  const enter = (fam) => {
    if (fam === current) return;
    assert.ok(!done.has(fam), `the samples of ${fam} are not together`);
    if (current) done.add(current);
    current = fam;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    let m;
    if ((m = /^# HELP (\S+) (.+)$/.exec(line))) {
      assert.match(m[1], NAME);
      assert.ok(!helps.has(m[1]), `HELP twice for ${m[1]}`);
      helps.add(m[1]);
      enter(m[1]);
    } else if ((m = /^# TYPE (\S+) (\S+)$/.exec(line))) {
      assert.ok(TYPES.has(m[2]), line);
      assert.ok(!types.has(m[1]), `TYPE twice for ${m[1]}`);
      types.set(m[1], m[2]);
      enter(m[1]);
    } else {
      m = SAMPLE.exec(line);
      assert.ok(m, `not a sample: ${line}`);
      const fam = familyOf(m[1]);
      assert.ok(types.has(fam), `a sample before its TYPE: ${line}`);
      enter(fam);
      const labels = [...(m[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => `${x[1]}=${x[2]}`);
      assert.equal(new Set(labels.map((l) => l.split('=')[0])).size, labels.length, `a label twice: ${line}`);
      const key = `${m[1]}{${labels.sort().join(',')}}`;
      assert.ok(!samples.has(key), `sample twice: ${key}`);
      const v = m[3] === '+Inf' ? Infinity : Number(m[3]);
      assert.ok(!Number.isNaN(v), line);
      samples.set(key, v);
    }
  }
  // Histograms: cumulative buckets, +Inf last and equal to _count.
  for (const [fam, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map();
    for (const [key, v] of samples) {
      if (!key.startsWith(`${fam}_bucket{`)) continue;
      const le = /le=([^,}]*)/.exec(key)[1];
      const rest = key.slice(`${fam}_bucket`.length).replace(/,?le=[^,}]*/, '').replace('{,', '{');
      if (!series.has(rest)) series.set(rest, []);
      series.get(rest).push([le === '+Inf' ? Infinity : Number(le), v]);
    }
    for (const [rest, buckets] of series) {
      buckets.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i][1] >= buckets[i - 1][1], `${fam}${rest} not cumulative`);
      assert.equal(buckets.at(-1)[0], Infinity, `${fam}${rest} has no +Inf bucket`);
      assert.equal(samples.get(`${fam}_count${rest}`), buckets.at(-1)[1], `${fam}${rest}: +Inf is not _count`);
      assert.ok(samples.has(`${fam}_sum${rest}`), `${fam}${rest} has no _sum`);
    }
  }
  return { samples, types };
}

/* A request from a given local address, on a connection of its own. */
function from(localAddress, port, method, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, localAddress, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /backend/metrics', () => {
  let s;
  const programs = fs.readdirSync(path.join(TOP, BUILD, 'bin')).sort();

  /* The current samples; key(name, labels) looks one up. */
  async function scrape() {
    const r = await s.api('GET', '/backend/metrics');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    return parseProm(r.text);
  }
  const key = (name, labels) => `${name}{${Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(',')}}`;
  const get = (m, name, labels) => m.samples.get(key(name, labels)) ?? 0;

  before(async () => {
    s = await start({ SENTC_BACKEND_UPSTREAM_TIMEOUT_MS: '1000', SENTC_BACKEND_WORKERS: '2' });
  });
  after(() => s.stop());

  it('is the Prometheus text format, with every family and every program up', async () => {
    // A program takes its socket before it starts its workers: wait for them.
    let m;
    await waitFor(async () => {
      m = await scrape();
      return programs.every((p) => get(m, 'sentc_backend_workers', { program: p }) === 2);
    }, 'every program to report 2 workers', { detail: () => programs.map((p) => `${p} ${get(m, 'sentc_backend_workers', { program: p })}`).join(', ') });
    const want = {
      sentc_backend_up: 'gauge',
      sentc_backend_start_time_seconds: 'gauge',
      sentc_backend_workers: 'gauge',
      sentc_backend_requests_in_flight: 'gauge',
      sentc_backend_requests_refused_total: 'counter',
      sentc_backend_worker_restarts_total: 'counter',
      sentc_backend_config_reloads_total: 'counter',
      sentc_backend_requests_total: 'counter',
      sentc_backend_request_duration_seconds: 'histogram',
      sentc_backend_upstream_requests_total: 'counter',
      sentc_backend_upstream_errors_total: 'counter',
      sentc_backend_upstream_connections_total: 'counter',
      sentc_backend_upstream_duration_seconds: 'histogram',
      sentc_backend_jwt_cache_hits_total: 'counter',
      sentc_backend_jwt_cache_misses_total: 'counter',
      sentc_backend_jwt_key_checks_total: 'counter',
      sentc_backend_access_cache_hits_total: 'counter',
      sentc_backend_access_cache_misses_total: 'counter',
    };
    assert.deepEqual(Object.fromEntries(m.types), want);
    // The scrape itself is the one request the metrics program carries.
    assert.equal(get(m, 'sentc_backend_requests_in_flight', { program: 'metrics' }), 1);
    const now = Date.now() / 1000;
    for (const p of programs) {
      assert.equal(get(m, 'sentc_backend_up', { program: p }), 1, p);
      assert.equal(get(m, 'sentc_backend_workers', { program: p }), 2, p);
      const t = m.samples.get(key('sentc_backend_start_time_seconds', { program: p }));
      assert.ok(t > now - 600 && t <= now + 5, `${p} started ${t}`);
    }
    for (const [k, v] of m.samples) {
      const prog = /program=([^,}]*)/.exec(k);
      assert.ok(prog && programs.includes(prog[1]), `a sample of no program: ${k}`);
      assert.ok(v >= 0 && Number.isFinite(v), k);
    }
  });

  it('counts requests by program, method and status, with their time', async () => {
    const m0 = await scrape();
    await s.clearLog();
    const name = `metrics-${process.pid}`;
    for (let i = 0; i < 3; i++) await s.register(`${name}-${i}`);
    const dup = await s.api('POST', '/api/v1/register', { body: registerInput(`${name}-0`) });
    assert.equal(dup.status, 400);
    const wrong = await s.api('GET', '/api/v1/register');
    assert.equal(wrong.status, 405);
    const m1 = await scrape();
    const calls = (await s.upstream()).length;	// what sentc received from these
    assert.ok(calls >= 4);
    const d = (n, l) => get(m1, n, l) - get(m0, n, l);
    assert.equal(d('sentc_backend_requests_total', { program: 'register', method: 'POST', status: '200' }), 3);
    assert.equal(d('sentc_backend_requests_total', { program: 'register', method: 'POST', status: '400' }), 1);
    assert.equal(d('sentc_backend_requests_total', { program: 'register', method: 'GET', status: '405' }), 1);
    assert.equal(d('sentc_backend_request_duration_seconds_count', { program: 'register' }), 5);
    assert.ok(d('sentc_backend_request_duration_seconds_sum', { program: 'register' }) > 0);
    assert.equal(d('sentc_backend_upstream_requests_total', { program: 'register' }), calls, 'every call sentc received');
    const opened = d('sentc_backend_upstream_connections_total', { program: 'register' });
    assert.ok(opened >= 0 && opened <= calls, `${opened} connections for ${calls} calls`);
    assert.equal(d('sentc_backend_upstream_duration_seconds_count', { program: 'register' }), calls);
    for (const error of ['unreachable', 'invalid', 'timeout', 'server'])
      assert.equal(d('sentc_backend_upstream_errors_total', { program: 'register', error }), 0, error);
    // The metrics program counts its own scrapes too.
    assert.equal(d('sentc_backend_requests_total', { program: 'metrics', method: 'GET', status: '200' }), 1);
  });

  it('counts sentc API faults by kind', async () => {
    const p = '/api/v1/user/prepare_register_device';
    const m0 = await scrape();
    const faults = [['5xx', 'server', 502], ['garbage', 'invalid', 502], ['close', 'unreachable', 502], ['delay', 'timeout', 504]];
    for (const [mode, , status] of faults) {
      // Once: a request that may have reached sentc is never sent again.
      await s.sim('POST', 'fail', { path: p, mode, count: 1, delay_ms: 3000 });
      const r = await s.api('POST', p, { body: { device_identifier: `fault-${mode}-${process.pid}` } });
      assert.equal(r.status, status, `${mode}: ${r.text}`);
    }
    const m1 = await scrape();
    const d = (n, l) => get(m1, n, l) - get(m0, n, l);
    for (const [mode, error] of faults)
      assert.equal(d('sentc_backend_upstream_errors_total', { program: 'register-device', error }), 1, mode);
    assert.equal(d('sentc_backend_upstream_requests_total', { program: 'register-device' }), 4);
    assert.equal(d('sentc_backend_requests_total', { program: 'register-device', method: 'POST', status: '502' }), 3);
    assert.equal(d('sentc_backend_requests_total', { program: 'register-device', method: 'POST', status: '504' }), 1);
    // The timeout (1 s) shows in the histogram: one call above 0.5 s.
    assert.equal(d('sentc_backend_upstream_duration_seconds_count', { program: 'register-device' })
      - d('sentc_backend_upstream_duration_seconds_bucket', { program: 'register-device', le: '0.5' }), 1);
  });

  it('counts JWT cache and access cache hits and misses', async () => {
    const u = await s.user('mcache', { a: 1 });
    const g = await s.group(u);
    const m0 = await scrape();
    for (let i = 0; i < 3; i++) assert.equal((await s.api('GET', '/backend/me', { headers: u.auth })).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await s.api('GET', `/api/v1/group/${g}/light`, { headers: u.auth })).status, 200);
    const m1 = await scrape();
    const d = (n, l) => get(m1, n, l) - get(m0, n, l);
    assert.equal(d('sentc_backend_jwt_cache_misses_total', { program: 'me' }), 1, 'verified once');
    assert.equal(d('sentc_backend_jwt_cache_hits_total', { program: 'me' }), 2, 'then from the cache, whichever worker');
    assert.equal(d('sentc_backend_jwt_cache_misses_total', { program: 'group' }), 1);
    assert.equal(d('sentc_backend_jwt_cache_hits_total', { program: 'group' }), 2);
    assert.equal(d('sentc_backend_access_cache_misses_total', { program: 'group' }), 1, 'sentc asked once');
    assert.equal(d('sentc_backend_access_cache_hits_total', { program: 'group' }), 2);
    assert.equal(d('sentc_backend_upstream_requests_total', { program: 'group' }), 1);
  });

  it('counts workers alive and restarted', async () => {
    const m0 = await scrape();
    const [victim] = s.pids('me');
    process.kill(victim, 'SIGKILL');
    let m1;
    await waitFor(async () => {
      m1 = await scrape();
      return get(m1, 'sentc_backend_worker_restarts_total', { program: 'me' }) > get(m0, 'sentc_backend_worker_restarts_total', { program: 'me' });
    }, 'a restart of me counted');
    assert.equal(get(m1, 'sentc_backend_worker_restarts_total', { program: 'me' }) - get(m0, 'sentc_backend_worker_restarts_total', { program: 'me' }), 1);
    assert.equal(get(m1, 'sentc_backend_workers', { program: 'me' }), 2, 'replaced');
    assert.equal(s.pids('me').length, 2);
  });

  it('HEAD answers without a body; other methods are a 405 envelope', async () => {
    const h = await s.raw('HEAD', '/backend/metrics');
    assert.equal(h.status, 200);
    assert.equal(h.text, '');
    const p = await s.api('POST', '/backend/metrics', { body: {} });
    assert.equal(p.status, 405);
    assert.deepEqual(p.json, { status: false, err_msg: 'Method not allowed on this route', err_code: 20002 });
    assert.equal(p.headers.get('allow'), 'GET, HEAD');
  });

  it('from an address that is not loopback: nginx answers 403 (20036), the program never sees it', async () => {
    const before = s.logRecords('metrics').filter((r) => r.msg === 'request').length;
    const r = await from('127.0.0.2', s.port, 'GET', '/backend/metrics');
    assert.equal(r.status, 403);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.deepEqual(JSON.parse(r.text), { status: false, err_msg: 'The metrics are not served to this address', err_code: 20036 });
    const ok = await from('127.0.0.1', s.port, 'GET', '/backend/metrics');
    assert.equal(ok.status, 200);
    // The loopback request's line, sent after the refused one: once it is written, a line of the other would be too.
    await waitFor(() => s.logRecords('metrics').filter((r) => r.msg === 'request').length > before, 'the loopback request\'s line');
    assert.equal(s.logRecords('metrics').filter((r) => r.msg === 'request').length, before + 1, 'only the loopback one');
    // Other routes are served to that address as before.
    assert.equal((await from('127.0.0.2', s.port, 'GET', '/backend/health')).status, 200);
  });

  it('shows no secret', async () => {
    const r = await s.api('GET', '/backend/metrics');
    for (const k of ['SENTC_SECRET_TOKEN', 'SENTC_PUBLIC_TOKEN', 'SENTC_JWT_SIGN_KEY', 'SENTC_JWT_VERIFY_KEY',
      'SENTC_BACKEND_ADMIN_TOKEN', 'SENTC_BACKEND_COOKIE_KEY'])
      assert.ok(!r.text.includes(s.config[k]), k);
  });

  it('a program that stopped is down with no workers, whether it drained or was killed', async () => {
    const pidOf = (name) => Number(fs.readFileSync(path.join(s.dir, 'pids', name), 'utf8'));
    process.kill(pidOf('user-delete'), 'SIGTERM');
    process.kill(pidOf('items'), 'SIGKILL');
    let m;
    await waitFor(async () => {
      m = await scrape();
      return ['user-delete', 'items'].every((p) => get(m, 'sentc_backend_up', { program: p }) === 0
        && get(m, 'sentc_backend_workers', { program: p }) === 0);
    }, 'user-delete and items to be down with no workers');
    for (const p of ['user-delete', 'items']) {
      assert.equal(get(m, 'sentc_backend_up', { program: p }), 0, p);
      assert.equal(get(m, 'sentc_backend_workers', { program: p }), 0, p);
    }
    assert.equal(get(m, 'sentc_backend_up', { program: 'me' }), 1);
  });

  it('with the metrics program down, nginx answers its 503 envelope', async () => {
    process.kill(s.master('metrics'), 'SIGTERM');
    let r;
    await waitFor(async () => {
      r = await s.api('GET', '/backend/metrics');
      return r.status !== 200;
    }, 'GET /backend/metrics to fail once metrics is stopped');
    assert.equal(r.status, 503, r.text);
    assert.deepEqual(r.json, { status: false, err_msg: 'The backend is not ready', err_code: 20026 });
  });
});

'use strict';
/*
 * A request waiting on sentc holds no worker (issue 18): with one worker
 * per program, many requests are held at sentc at once while others are
 * answered; past SENTC_BACKEND_MAX_IN_FLIGHT a request gets the 503 busy
 * envelope at once; the connections to sentc stay within
 * SENTC_BACKEND_UPSTREAM_CONNECTIONS however many requests are in flight;
 * SIGTERM lets the requests in flight finish.
 *
 * sentc is the simulator: its hold fault keeps requests unanswered until
 * POST /__sim/release, its delay makes every answer late, and its stats
 * count the requests it is handling at once (in_flight, in_flight_max).
 */
const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { start, SLOW } = require('./harness');
const { sleep } = require('../lib/common');

const PRD = '/api/v1/user/prepare_register_device';
let seq = 0;
const device = (tag) => ({ device_identifier: `conc-${tag}-${process.pid}-${++seq}`, master_key: 'k' });

/*
 * Polls what() until ok(value); the value. On time-out the error names
 * the last value, so that a failure says how far it got.
 */
async function until(what, ok, label, ms = 15000) {
  const end = Date.now() + ms * SLOW;
  for (;;) {
    const v = await what();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}; last seen: ${JSON.stringify(v)}`);
    await sleep(25);
  }
}

/* The sum of a metric's samples for one program, from GET /backend/metrics. */
async function metric(s, name, program) {
  const r = await s.api('GET', '/backend/metrics');
  assert.equal(r.status, 200, r.text);
  let sum = null;
  for (const line of r.text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name || !(m[2] || '').split(',').includes(`program="${program}"`)) continue;
    sum = (sum || 0) + Number(m[3]);
  }
  return sum;
}

const simStats = (s) => s.sim('GET', 'stats');

/* n relays sent at once; each resolves to its answer (a failed fetch as status 0). */
function relays(s, n, tag) {
  return Array.from({ length: n }, () => s.api('POST', PRD, { body: device(tag) })
    .catch((err) => ({ status: 0, text: String(err) })));
}

describe('one worker carries many requests held at sentc', () => {
  let s; let u;
  before(async () => {
    s = await start({ SENTC_BACKEND_WORKERS: '1' });
    u = await s.user('conc');
  });
  afterEach(async () => {
    // Nothing stays held for the next test, whatever happened in this one.
    await s.sim('DELETE', 'fail');
    await s.sim('POST', 'release');
  });
  after(() => s.stop());

  it('20 relays in flight at once, while requests that need no sentc are answered; all 20 answer once sentc does', async () => {
    await s.sim('POST', 'fail', { path: PRD, mode: 'hold', count: 20 });
    await s.sim('DELETE', 'stats');
    const pending = relays(s, 20, 'held');

    // All 20 reach sentc at once: the one worker waits for none of them.
    await until(() => simStats(s), (st) => st.held === 20, '20 relays held at sentc at once');
    const st = await simStats(s);
    assert.equal(st.in_flight, 20);
    assert.equal(st.in_flight_max, 20);
    assert.ok(await metric(s, 'sentc_backend_requests_in_flight', 'register-device') >= 20,
      'the metrics count the 20 in flight');

    // Meanwhile: GET /backend/me (no sentc call), and the relay program itself
    // refusing a body before going upstream, on the worker that carries the 20.
    const me = await s.api('GET', '/backend/me', { headers: u.auth });
    assert.equal(me.status, 200, me.text);
    const bad = await s.api('POST', PRD, { body: '[]' });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.json.status, false);
    assert.equal((await simStats(s)).held, 20, 'the 20 still held');

    assert.equal((await s.sim('POST', 'release')).released, 20);
    const answers = await Promise.all(pending);
    for (const r of answers) {
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.status, true);
    }
    assert.equal(new Set(answers.map((r) => r.json.result.device_identifier)).size, 20, 'each its own answer');
    await until(() => metric(s, 'sentc_backend_requests_in_flight', 'register-device'), (v) => v === 0,
      'no request in flight in the metrics');
  });
});

describe('SENTC_BACKEND_MAX_IN_FLIGHT bounds the requests a program carries', () => {
  let s;
  before(async () => { s = await start({ SENTC_BACKEND_WORKERS: '1', SENTC_BACKEND_MAX_IN_FLIGHT: '4' }); });
  afterEach(async () => {
    await s.sim('DELETE', 'fail');
    await s.sim('POST', 'release');
  });
  after(() => s.stop());

  it('with 4 held at sentc, a fifth gets the 503 busy envelope at once and reaches no sentc; the 4 answer 200 after', async () => {
    const refusedBefore = (await metric(s, 'sentc_backend_requests_refused_total', 'register-device')) || 0;
    // Only four are held: a fifth that reached sentc would be answered 200 at once.
    await s.sim('POST', 'fail', { path: PRD, mode: 'hold', count: 4 });
    await s.clearLog();
    const pending = relays(s, 4, 'bound');
    await until(() => simStats(s), (st) => st.held === 4, '4 relays held at sentc at once');

    const fifth = await s.api('POST', PRD, { body: device('fifth') });
    assert.equal(fifth.status, 503, fifth.text);
    assert.equal(fifth.json.status, false);
    assert.equal(fifth.json.err_code, 20041);
    assert.equal(typeof fifth.json.err_msg, 'string');
    assert.equal((await simStats(s)).held, 4, 'answered while the 4 are still held');
    assert.equal((await s.upstream()).length, 4, 'the fifth never went to sentc');
    assert.equal(await metric(s, 'sentc_backend_requests_refused_total', 'register-device'), refusedBefore + 1);

    await s.sim('POST', 'release');
    for (const r of await Promise.all(pending)) assert.equal(r.status, 200, r.text);
    // The bound is on what is in flight, not a quota: the next one goes through.
    const next = await s.api('POST', PRD, { body: device('next') });
    assert.equal(next.status, 200, next.text);
  });
});

describe('SENTC_BACKEND_UPSTREAM_CONNECTIONS bounds the connections to sentc, not the requests', () => {
  let s;
  before(async () => { s = await start({ SENTC_BACKEND_WORKERS: '1', SENTC_BACKEND_UPSTREAM_CONNECTIONS: '2' }); });
  after(async () => {
    await s.sim('POST', 'delay', { ms: 0 });
    s.stop();
  });

  it('10 relays with sentc 50 ms away all answer 200, never more than 2 at sentc at once', async () => {
    await s.sim('POST', 'delay', { ms: 50 });
    await s.sim('DELETE', 'stats');
    const answers = await Promise.all(relays(s, 10, 'pool'));
    for (const r of answers) assert.equal(r.status, 200, r.text);
    const st = await simStats(s);
    assert.ok(st.in_flight_max <= 2, `${st.in_flight_max} requests at sentc at once`);
    assert.equal(st.in_flight_max, 2, 'both connections carried requests at once');
  });
});

describe('SIGTERM with requests in flight', () => {
  let s;
  before(async () => { s = await start({ SENTC_BACKEND_WORKERS: '1' }); });
  afterEach(async () => {
    await s.sim('DELETE', 'fail');
    await s.sim('POST', 'release');
  });
  after(() => s.stop());

  it('lets the 5 held at sentc finish, then exits; started again, the program serves', async () => {
    await s.sim('POST', 'fail', { path: PRD, mode: 'hold', count: 5 });
    const pending = relays(s, 5, 'drain');
    await until(() => simStats(s), (st) => st.held === 5, '5 relays held at sentc at once');
    const master = s.master('register-device');

    // restart() sends SIGTERM, waits for the master to exit, then starts the program again.
    const restarted = s.restart('register-device');
    // The 5 were still held when sentc answers them: the program waited for them.
    assert.equal((await s.sim('POST', 'release')).released, 5);
    for (const r of await Promise.all(pending)) assert.equal(r.status, 200, r.text);
    await restarted;
    assert.notEqual(s.master('register-device'), master);
    const r = await s.api('POST', PRD, { body: device('after') });
    assert.equal(r.status, 200, r.text);
  });
});

'use strict';
/*
 * Logs and request ids. SENTC_BACKEND_LOG=json: one JSON object per line
 * (time, program, level, request id, and for a request its route, method,
 * status, upstream status and milliseconds, user id); text: the lines as
 * before, with the route and the request id. The id comes from
 * X-Request-Id when it is sane, is generated otherwise, is echoed in the
 * answer, sent to sentc, and carried by every line of the request. No
 * token, cookie or key ever shows in a line.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { start, registerInput, parseLogLine, checkConfig, waitFor, TOP, BUILD } = require('./harness');

let seq = 0;
const rid = (what) => `${what}-${process.pid}-${++seq}.A_b:c/d`;

/* The records of the request with id, once its line is written. */
async function recordsOf(s, id) {
  return waitFor(() => {
    const rs = s.logRecords().filter((r) => r.request_id === id);
    return rs.some((r) => r.msg === 'request') && rs;
  }, `a request line with id ${id} in backend.log`);
}

async function requestLine(s, id) {
  const lines = (await recordsOf(s, id)).filter((r) => r.msg === 'request');
  assert.equal(lines.length, 1, `one request line for ${id}`);
  return lines[0];
}

/* A register through nginx with a request id of the caller's. */
async function registerWith(s, id, name) {
  return s.api('POST', '/api/v1/register', {
    body: { ...registerInput(name), user_data: { n: 1 } },
    headers: { 'x-request-id': id },
  });
}

for (const format of ['json', 'text']) {
  describe(`SENTC_BACKEND_LOG=${format}`, () => {
    let s;
    before(async () => { s = await start({ SENTC_BACKEND_LOG: format }); });
    after(() => s.stop());

    it('a request id from X-Request-Id: echoed, sent to sentc, on the request line with its fields', async () => {
      const id = rid('trace');
      await s.clearLog();
      const t0 = Date.now();
      const r = await registerWith(s, id, `log-${format}-${process.pid}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('x-request-id'), id, 'echoed');
      const up = await s.upstream();
      assert.deepEqual(up.map((x) => x.path), ['/api/v1/exists', '/api/v1/register']);
      assert.deepEqual(up.map((x) => x.request_id), [id, id], 'sent to sentc with every call');

      const line = await requestLine(s, id);
      assert.equal(line.program, 'register');
      assert.equal(line.level, 'info');
      assert.equal(line.route, '/api/v1/register');
      assert.equal(line.method, 'POST');
      assert.equal(line.status, 200);
      assert.equal(line.err_code, 0);
      assert.equal(line.upstream_status, 200);
      assert.ok(Number.isInteger(line.upstream_ms) && line.upstream_ms >= 0);
      assert.ok(Number.isInteger(line.ms) && line.ms >= line.upstream_ms);
      assert.equal(line.user, r.json.result.user_id, 'the new user');
      assert.ok(s.pids('register').includes(line.pid), 'the worker that served it');
      if (format === 'json') {
        const at = Date.parse(line.time);
        assert.ok(at >= t0 - 2000 && at <= Date.now() + 2000, line.time);
      } else {
        assert.match(s.log(), new RegExp(`^register\\[${line.pid}\\] request: method=POST status=200 err=0 `
          + `ms=\\d+ upstream_status=200 upstream_ms=\\d+ user=${line.user} route=/api/v1/register rid=${id.replace(/[.]/g, '\\.')}$`, 'm'));
      }
    });

    it('the user id of a JWT route, and the route as its pattern, not its ids', async () => {
      const u = await s.user('logjwt', { a: 1 });
      const g = await s.group(u);
      const id = rid('jwt');
      const r = await s.api('GET', `/api/v1/group/${g}/light`, { headers: { ...u.auth, 'x-request-id': id } });
      assert.equal(r.status, 200, r.text);
      const line = await requestLine(s, id);
      assert.equal(line.program, 'group');
      assert.equal(line.user, u.id);
      assert.equal(line.route, '/api/v1/group/{id}/light');
      assert.equal(line.upstream_status, 200);

      // A refused JWT: no user, no upstream call.
      const id2 = rid('nojwt');
      const r2 = await s.api('GET', '/backend/me', { headers: { authorization: 'Bearer x.y.z', 'x-request-id': id2 } });
      assert.equal(r2.status, 401);
      const line2 = await requestLine(s, id2);
      assert.equal(line2.user, null);
      assert.equal(line2.status, 401);
      assert.equal(line2.err_code, 20013);
      assert.equal(line2.upstream_status, null);
      assert.equal(line2.upstream_ms, 0);
    });

    it('without X-Request-Id, or with one that is not sane, a fresh id: 32 hex digits, new each time', async () => {
      const bad = ['', 'a'.repeat(129), 'has space', 'quo"te', 'back\\slash', 'tab\there', 'caf\u00e9'];
      const ids = new Set();
      await s.clearLog();
      for (const b of [undefined, ...bad]) {
        const h = { 'content-type': 'application/json' };
        if (b !== undefined) h['x-request-id'] = b;
        const r = await s.raw('POST', '/api/v1/user/prepare_register_device', h,
          JSON.stringify({ device_identifier: `fresh-${format}-${process.pid}-${ids.size}` }));
        assert.equal(r.status, 200, `${JSON.stringify(b)}: ${r.text}`);
        const got = r.headers['x-request-id'];
        assert.match(got, /^[0-9a-f]{32}$/, `${JSON.stringify(b)} replaced`);
        ids.add(got);
        assert.equal((await requestLine(s, got)).status, 200);
      }
      assert.equal(ids.size, bad.length + 1, 'a new id every time');
      const up = await s.upstream();
      assert.deepEqual(up.map((x) => x.request_id), [...ids], 'sentc got the same ids');

      // Sent twice: neither is taken (no first or last one wins).
      const twice = await s.raw('GET', '/backend/health', { 'x-request-id': [rid('first'), rid('second')] });
      assert.equal(twice.status, 200, twice.text);
      assert.match(twice.headers['x-request-id'], /^[0-9a-f]{32}$/, 'a fresh id');

      const longest = 'z'.repeat(128);
      const r = await s.api('GET', '/backend/health', { headers: { 'x-request-id': longest } });
      assert.equal(r.headers.get('x-request-id'), longest, '128 characters are taken');
    });

    it('every line of a request carries its id; lines outside requests carry none', async () => {
      await s.sim('POST', 'fail', { path: '/api/v1/user/prepare_register_device', mode: 'garbage', count: 1 });
      const id = rid('fault');
      const r = await s.api('POST', '/api/v1/user/prepare_register_device', {
        body: { device_identifier: `garbage-${format}-${process.pid}` }, headers: { 'x-request-id': id },
      });
      assert.equal(r.status, 502, r.text);
      const rs = await recordsOf(s, id);
      const warn = rs.find((x) => x.level === 'warn');
      assert.ok(warn, 'the upstream fault is logged with the id');
      assert.match(warn.msg, /upstream POST \/user\/prepare_register_device: HTTP 200 without a sentc envelope/);
      assert.equal(warn.program, 'register-device');
      const serving = s.logRecords().filter((x) => /^serving with \d+ workers$/.test(x.msg));
      assert.ok(serving.length >= 10, 'every program logged its start');
      for (const x of serving) assert.equal(x.request_id, null);
    });

    it('no token, cookie or key in any line, whatever the request', async () => {
      const secrets = ['SENTC_SECRET_TOKEN', 'SENTC_PUBLIC_TOKEN', 'SENTC_JWT_SIGN_KEY', 'SENTC_BACKEND_ADMIN_TOKEN',
        'SENTC_BACKEND_COOKIE_KEY'].map((k) => s.config[k]);
      const admin = { authorization: `Bearer ${s.config.SENTC_BACKEND_ADMIN_TOKEN}`, 'content-type': 'application/json' };

      const u = await s.user('secret', { x: 1 });
      const sess = await s.session(u.id);
      secrets.push(u.jwt, sess.jwt, sess.refresh_token);
      let r = await s.api('POST', '/backend/session', {
        body: { refresh_token: sess.refresh_token }, headers: { authorization: `Bearer ${sess.jwt}`, 'x-request-id': rid('s') },
      });
      assert.equal(r.status, 200, r.text);
      const cookie = r.headers.get('set-cookie').split(';')[0];
      secrets.push(cookie.split('=')[1]);
      r = await s.api('GET', '/backend/refresh', { headers: { authorization: `Bearer ${sess.jwt}`, cookie } });
      assert.equal(r.status, 200, r.text);
      secrets.push(r.text);
      // Refused: a tampered cookie, a forged admin token, a secret as a JWT, a JWT as the admin token.
      r = await s.api('GET', '/backend/refresh', { headers: { authorization: `Bearer ${sess.jwt}`, cookie: `${cookie}x` } });
      assert.equal(r.status, 401);
      r = await s.api('PUT', '/api/v1/user/forced/disable_otp', { body: { user_identifier: u.name }, headers: admin });
      assert.equal(r.status, 200, r.text);
      r = await s.api('PUT', '/api/v1/user/forced/disable_otp', { body: { user_identifier: u.name }, headers: { ...admin, authorization: `Bearer ${u.jwt}` } });
      assert.equal(r.status, 401);
      r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${s.config.SENTC_SECRET_TOKEN}` } });
      assert.equal(r.status, 401);
      // An upstream that fails while holding the user's JWT.
      await s.sim('POST', 'fail', { path: '/api/v1/group', mode: '5xx', count: 1 });
      r = await s.api('POST', '/api/v1/group', { body: { keys: 'k' }, headers: u.auth });
      assert.equal(r.status, 502, r.text);

      const log = s.log();
      assert.ok(s.logRecords().filter((x) => x.msg === 'request').length > 20);
      for (const secret of secrets) {
        assert.ok(secret && secret.length >= 20, 'a real secret');
        assert.ok(!log.includes(secret), `a secret in backend.log (${format})`);
      }
      // Not even a JWT's signature on its own.
      for (const jwt of [u.jwt, sess.jwt]) assert.ok(!log.includes(jwt.split('.')[2]));
    });
  });
}

describe('SENTC_JWT_SIGN_KEY in the config', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-sign-'));
  const good = fs.readFileSync(path.join(TOP, 'tests/integration/fixtures/dev.env'), 'utf8');
  const signKey = /^SENTC_JWT_SIGN_KEY=(.+)$/m.exec(good)[1];
  const without = good.replace(/^SENTC_JWT_SIGN_KEY=.*\n/m, '');
  const warning = /^register\[\d+\] warn: config: SENTC_JWT_SIGN_KEY is set, but the backend only verifies tokens and never uses the app's signing key: remove it from this host's config and environment \(a copy here is a risk\)$/m;
  let s;
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (s) s.stop();
  });

  it('set in the file or the environment: a warning that names it, never its value, and says it can go', () => {
    for (const [text, env] of [[good, {}], [without, { SENTC_JWT_SIGN_KEY: signKey }]]) {
      const r = checkConfig(dir, text, env);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, warning);
      assert.ok(!r.stderr.includes(signKey), 'the key in the log');
      assert.ok(!r.stderr.includes(signKey.slice(0, 24)), 'a piece of the key in the log');
    }
  });

  it('not set, or empty: no warning', () => {
    for (const [text, env] of [[without, {}], [good, { SENTC_JWT_SIGN_KEY: '' }]]) {
      const r = checkConfig(dir, text, env);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /SENTC_JWT_SIGN_KEY/);
    }
  });

  it('every program warns at start, and again on reload; make run\'s own config has no signing key, so no warning there', async () => {
    s = await start();
    assert.equal(s.config.SENTC_JWT_SIGN_KEY !== undefined, true, 'the simulator has it');
    const cfg = fs.readFileSync(fs.readFileSync(path.join(s.dir, 'config.path'), 'utf8').trim(), 'utf8');
    assert.doesNotMatch(cfg, /SENTC_JWT_SIGN_KEY/, "the programs' config");
    const warned = () => s.logRecords().filter((r) => r.level === 'warn' && /^config: SENTC_JWT_SIGN_KEY is set/.test(r.msg));
    assert.deepEqual(warned(), []);
    const programs = fs.readdirSync(path.join(TOP, BUILD, 'bin')).sort();
    s.setConfig({ SENTC_JWT_SIGN_KEY: s.config.SENTC_JWT_SIGN_KEY });
    const outcome = await s.reload();
    for (const p of programs) assert.equal(outcome[p], 'complete', p);
    assert.deepEqual([...new Set(warned().map((r) => r.program))].sort(), programs, 'each program, once the key is there');
    assert.ok(!s.log().includes(s.config.SENTC_JWT_SIGN_KEY), 'the key in backend.log');
    await s.restart('me', {});
    assert.equal(warned().filter((r) => r.program === 'me').length, 2, 'me warned again at its start');
  });
});

describe('SENTC_BACKEND_LOG in the config', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-log-'));
  const good = fs.readFileSync(path.join(TOP, 'tests/integration/fixtures/dev.env'), 'utf8');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const check = (text, env) => checkConfig(dir, text, env);

  it('json in the file: the lines from then on are JSON', () => {
    const r = check(`${good}SENTC_BACKEND_LOG=json\n`);
    assert.equal(r.status, 0, r.stderr);
    const recs = r.stderr.trim().split('\n').map(parseLogLine);
    const rec = recs[recs.length - 1];
    assert.equal(rec.msg, 'config is valid');
    assert.equal(rec.program, 'register');
    assert.equal(rec.level, 'info');
    // The dashboard's file has the signing key: warned of, in JSON too.
    assert.equal(recs.length, 2, r.stderr);
    assert.equal(recs[0].level, 'warn');
    assert.match(recs[0].msg, /^config: SENTC_JWT_SIGN_KEY is set/);
  });

  it('anything but text or json is refused, naming the key; the environment picks the format of that message', () => {
    const r = check(`${good}SENTC_BACKEND_LOG=xml\n`);
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /^register\[\d+\] error: config: SENTC_BACKEND_LOG must be text or json$/m);
    const j = check(good, { SENTC_BACKEND_LOG: 'json', SENTC_BACKEND_MAX_BODY: 'many' });
    assert.equal(j.status, 78);
    const rec = parseLogLine(j.stderr.trim());
    assert.equal(rec.level, 'error');
    assert.match(rec.msg, /SENTC_BACKEND_MAX_BODY/);
  });
});

'use strict';
/*
 * SIGHUP: each program reads its config again and replaces its workers
 * without dropping a request: JWT verify keys, cookie keys, tokens,
 * origins, TTLs, the number of workers. A config that does not load is
 * refused, the old one serves on, and the log says why. A JWT verified
 * under a key that the new config no longer lists is not taken from the
 * cache.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { start, registerInput, sleep, waitFor, TOP, BUILD } = require('./harness');
const { genKeyEnv } = require('../sentc-sim/keys');

const COOKIE_1 = crypto.randomBytes(32).toString('base64');
const COOKIE_2 = crypto.randomBytes(32).toString('base64');

describe('reload on SIGHUP', () => {
  let s;
  let k1;	// the dev config's key: { kid, verifyKeyB64 }

  before(async () => {
    s = await start();
    // The keys in the file, not in the environment: a reload reads the file.
    k1 = { kid: s.config.SENTC_JWT_KEY_ID, verifyKeyB64: s.config.SENTC_JWT_VERIFY_KEY };
    s.setConfig({ SENTC_BACKEND_COOKIE_KEY: COOKIE_1 });
    assert.deepEqual(new Set(Object.values(await s.reload())), new Set(['complete']));
  });
  after(() => s.stop());

  /* A fresh login of user u: a JWT from the simulator's current key, and the session cookie. */
  async function login(u) {
    const sess = await s.session(u.id);
    const r = await s.api('POST', '/backend/session', {
      body: { refresh_token: sess.refresh_token }, headers: { authorization: `Bearer ${sess.jwt}` },
    });
    assert.equal(r.status, 200, r.text);
    return { jwt: sess.jwt, auth: { authorization: `Bearer ${sess.jwt}` }, cookie: r.headers.get('set-cookie').split(';')[0] };
  }

  const kidOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url')).kid;

  it('rotates the JWT verify keys and the cookie keys under load, with no failed request', async () => {
    const u = await s.user('rot', { plan: 'pro' });
    const g = await s.group(u);
    let creds = await login(u);
    const first = creds;
    assert.equal(kidOf(first.jwt), k1.kid);

    // The load: four clients, each calling the JWT, access-cache and cookie routes in turn.
    const results = [];
    let stop = false;
    const calls = [
      (c) => s.api('GET', '/backend/me', { headers: c.auth }),
      (c) => s.api('GET', `/api/v1/group/${g}/light`, { headers: c.auth }),
      (c) => s.api('GET', '/backend/refresh', { headers: { authorization: `Bearer ${c.jwt}`, cookie: c.cookie } }),
    ];
    const client = async (n) => {
      for (let i = n; !stop; i++) {
        const c = creds;
        const what = ['me', 'light', 'refresh'][i % 3];
        let r;
        try {
          r = await calls[i % 3](c);
        } catch (err) {
          r = { status: 0, text: String(err) };
        }
        results.push({ what, status: r.status, text: r.text, at: Date.now() });
      }
    };
    const clients = [0, 1, 2, 3].map(client);
    const pidsBefore = s.pids('me');
    // The load between the steps: at least ms, and n more requests however slow the machine.
    const load = (ms, n) => {
      const mark = results.length;
      return Promise.all([sleep(ms), waitFor(() => results.length >= mark + n, `${n} more requests under load`)]);
    };
    const reloadAll = async (changes) => {
      s.setConfig(changes);
      const out = await s.reload();
      assert.deepEqual(Object.entries(out).filter(([, v]) => v !== 'complete'), [], 'every program reloaded');
      await load(150, 8);
    };

    try {
      await load(300, 15);
      // 1. The backend learns the new JWT key before sentc signs with it.
      const k2 = genKeyEnv();
      await reloadAll({ SENTC_JWT_KEY_ID: null, SENTC_JWT_VERIFY_KEY: `${k1.kid}:${k1.verifyKeyB64},${k2.kid}:${k2.verifyKeyB64}` });
      await s.sim('POST', 'keys', { kid: k2.kid, sign_key: k2.signKeyB64, current: true });
      // 2. The new cookie key: first as a second key (decrypts only), then as the first (encrypts).
      await reloadAll({ SENTC_BACKEND_COOKIE_KEY: `${COOKIE_1},${COOKIE_2}` });
      await reloadAll({ SENTC_BACKEND_COOKIE_KEY: `${COOKIE_2},${COOKIE_1}` });
      // The clients move to a login under the new keys.
      creds = await login(u);
      assert.equal(kidOf(creds.jwt), k2.kid);
      await load(300, 15);
      // 3. The old keys go.
      await reloadAll({ SENTC_JWT_VERIFY_KEY: `${k2.kid}:${k2.verifyKeyB64}`, SENTC_BACKEND_COOKIE_KEY: COOKIE_2 });
      await load(300, 15);
    } finally {
      stop = true;
      await Promise.all(clients);
    }

    const failed = results.filter((r) => r.status !== 200);
    assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of ${results.length} requests failed`);
    assert.ok(results.length >= 60, `enough load: ${results.length} requests`);
    for (const what of ['me', 'light', 'refresh']) assert.ok(results.filter((r) => r.what === what).length >= 10, what);
    assert.ok(s.pids('me').every((p) => !pidsBefore.includes(p)), 'the workers are new ones');

    // The old key is deleted in the dashboard too (else sentc would vouch for its tokens, which
    // the backend asks it about once their key id is not configured). The old JWT was verified
    // and cached many times: it is refused now, by every route.
    await s.sim('DELETE', 'keys', { kid: k1.kid });
    for (const [p, h] of [['/backend/me', first.auth], [`/api/v1/group/${g}/light`, first.auth]]) {
      const r = await s.api('GET', p, { headers: h });
      assert.equal(r.status, 401, `${p}: ${r.text}`);
      assert.equal(r.json.err_code, 20015, 'the key id is no longer known');
    }
    // The cookie sealed with the removed key no longer opens; the new one does.
    const old = await s.api('GET', '/backend/refresh', { headers: { authorization: `Bearer ${creds.jwt}`, cookie: first.cookie } });
    assert.equal(old.status, 401, old.text);
    assert.equal(old.json.err_code, 20031);
    const now = await login(u);
    const ok = await s.api('GET', '/backend/refresh', { headers: { authorization: `Bearer ${now.jwt}`, cookie: now.cookie } });
    assert.equal(ok.status, 200, ok.text);

    const health = await s.api('GET', '/backend/health');
    assert.equal(health.json.result.jwt_keys, 1);
    assert.equal(health.json.result.cookie_keys, 1);
  });

  it('takes new origins, TTLs, tokens and numbers of workers', async () => {
    const u = await s.user('ttl');
    const g = await s.group(u);
    const origin = 'https://reloaded.example.com';
    const cors = async () => (await s.api('GET', '/backend/me', { headers: { ...u.auth, origin } })).headers.get('access-control-allow-origin');
    assert.equal(await cors(), null);

    // An access cache TTL of 0: every /light asks sentc.
    const light = async () => {
      await s.clearLog();
      for (let i = 0; i < 3; i++) assert.equal((await s.api('GET', `/api/v1/group/${g}/light`, { headers: u.auth })).status, 200);
      return (await s.upstream()).length;
    };
    assert.equal(await light(), 1, 'cached before');
    const origins = s.config.SENTC_BACKEND_ALLOWED_ORIGINS;
    s.setConfig({
      SENTC_BACKEND_ALLOWED_ORIGINS: `${origins},${origin}`, SENTC_BACKEND_ACCESS_CACHE_TTL: '0', SENTC_BACKEND_WORKERS: '3',
    });
    assert.deepEqual(await s.reload(['me', 'group']), { me: 'complete', group: 'complete' });
    assert.equal(await cors(), origin);
    assert.equal(await light(), 3, 'no cache after');
    assert.equal(s.pids('me').length, 3);
    assert.equal(s.pids('register').length, 2, 'a program not told keeps its config');

    // A new public token is what goes upstream (the simulator does not know it: 401).
    const token = s.config.SENTC_PUBLIC_TOKEN;
    s.setConfig({ SENTC_PUBLIC_TOKEN: 'a-token-the-simulator-does-not-know' });
    await s.reload(['register-device']);
    await s.clearLog();
    const r = await s.api('POST', '/api/v1/user/prepare_register_device', { body: { device_identifier: `tok-${process.pid}` } });
    assert.equal(r.status, 401, r.text);
    assert.deepEqual((await s.upstream()).map((x) => x.token), ['unknown']);
    s.setConfig({ SENTC_PUBLIC_TOKEN: token, SENTC_BACKEND_ALLOWED_ORIGINS: origins, SENTC_BACKEND_ACCESS_CACHE_TTL: null,
      SENTC_BACKEND_WORKERS: null });
    assert.deepEqual(new Set(Object.values(await s.reload())), new Set(['complete']));
    assert.equal(s.pids('me').length, 2);
    const again = await s.api('POST', '/api/v1/user/prepare_register_device', { body: { device_identifier: `tok2-${process.pid}` } });
    assert.equal(again.status, 200, again.text);
  });

  it('refuses a config that does not load: the old one serves on, and the log says why without a secret', async () => {
    const file = fs.readFileSync(path.join(s.dir, 'config.path'), 'utf8').trim();
    const good = fs.readFileSync(file, 'utf8');
    const pids = s.pids('register');
    const metrics = async () => {
      const t = (await s.api('GET', '/backend/metrics')).text;
      return Number(/^sentc_backend_config_reloads_total\{program="register",result="failure"\} (\d+)$/m.exec(t)[1]);
    };
    const failures = await metrics();
    const cases = [
      [`${good}SENTC_BACKEND_WORKERS=many\n`, /SENTC_BACKEND_WORKERS must be a whole number/],
      [`${good}SENTC_BACKEND_MAX_BODDY=5\n`, /unknown key SENTC_BACKEND_MAX_BODDY/],
      [good.replace(/^SENTC_SECRET_TOKEN=.*$/m, ''), /SENTC_SECRET_TOKEN is required/],
      [`${good}SENTC_JWT_VERIFY_KEY=AAAA${s.config.SENTC_SECRET_TOKEN}\n`, /SENTC_JWT_VERIFY_KEY/],
      [null, /config file .*: No such file or directory/],
    ];
    // A database that does not open (unless the environment names the database: it wins over the file).
    if (s.env.SENTC_BACKEND_DB === undefined)
      cases.push([`${good}SENTC_BACKEND_DB=/nonexistent/dir/db\n`, /SENTC_BACKEND_DB \/nonexistent\/dir\/db/]);
    try {
      for (const [text, why] of cases) {
        if (text === null) fs.rmSync(file);
        else fs.writeFileSync(file, text);
        const out = await s.reload(['register']);
        assert.equal(out.register, 'refused', String(why));
        const line = s.logRecords('register').filter((r) => /^reload: /.test(r.msg)).at(-1);
        assert.match(line.msg, why);
        assert.equal(line.level, 'error');
        assert.deepEqual(s.pids('register'), pids, 'the workers serve on');
        const r = await s.api('POST', '/api/v1/register', { body: registerInput(`keep-${process.pid}-${pids.length}-${why}`) });
        assert.equal(r.status, 200, r.text);
      }
    } finally {
      fs.writeFileSync(file, good);
    }
    assert.equal(await metrics(), failures + cases.length);
    const log = s.log();
    for (const k of ['SENTC_SECRET_TOKEN', 'SENTC_PUBLIC_TOKEN', 'SENTC_BACKEND_ADMIN_TOKEN', 'SENTC_BACKEND_COOKIE_KEY'])
      assert.ok(!log.includes(s.config[k]), k);
    assert.equal((await s.reload(['register'])).register, 'complete');
  });
});

describe('reload: what only a restart changes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-reload-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a new SENTC_BACKEND_SOCKET_DIR, and serves on from the old one', async () => {
    const good = fs.readFileSync(path.join(TOP, 'tests/integration/fixtures/dev.env'), 'utf8');
    const file = path.join(dir, 'c.env');
    const sockA = path.join(dir, 'a');
    fs.mkdirSync(sockA);
    fs.writeFileSync(file, `${good}SENTC_BACKEND_SOCKET_DIR=${sockA}\nSENTC_BACKEND_DB=${path.join(dir, 'db')}\n`);
    const env = { ...process.env };
    delete env.SENTC_BACKEND_SOCKET_DIR;
    const child = spawn(path.join(TOP, BUILD, 'bin/me'), ['-c', file], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    try {
      await waitFor(() => /serving with/.test(err), 'me to say it serves', { detail: () => err });
      fs.appendFileSync(file, `SENTC_BACKEND_SOCKET_DIR=${path.join(dir, 'b')}\n`);
      child.kill('SIGHUP');
      await waitFor(() => /reload: /.test(err), 'me to log the outcome of its reload', { detail: () => err });
      assert.match(err, /reload: SENTC_BACKEND_SOCKET_DIR changes only with a restart; still serving with the config loaded before/);
      assert.ok(fs.existsSync(path.join(sockA, 'me.sock')));
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => { if (child.exitCode !== null) r(); else child.on('exit', r); });
    }
  });
});

'use strict';
/*
 * The SDK's cookie mode through nginx: POST /backend/session sets the
 * encrypted refresh cookie, GET (or POST) /backend/refresh turns an old
 * JWT and the cookie into a new JWT through sentc's PUT /refresh, POST
 * /backend/logout clears it. Origins, key rotation, upstream faults, and
 * that no secret ever shows.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { start, forge, claims } = require('./harness');
const { genKeyEnv } = require('../sentc-sim/keys');

const NAME = 'sentc_refresh';
const MAX_AGE = 3600;
const APP = 'https://app.example.com';
const KEY_OLD = crypto.randomBytes(32).toString('base64');
const KEY_NEW = crypto.randomBytes(32).toString('base64');
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/* The app's verify key (base64 of the raw P-384 point) as a Node key. */
function verifyKey(b64) {
  const raw = Buffer.from(b64, 'base64');
  assert.equal(raw.length, 97);
  return crypto.createPublicKey({
    key: { kty: 'EC', crv: 'P-384', x: raw.subarray(1, 49).toString('base64url'), y: raw.subarray(49).toString('base64url') },
    format: 'jwk',
  });
}

function verifies(jwt, key) {
  const [h, p, sig] = jwt.split('.');
  return crypto.verify('sha384', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'));
}

/*
 * Checks one Set-Cookie header: our name, HttpOnly, Secure,
 * SameSite=Strict, Path=/backend/refresh, Max-Age, nothing else. Returns
 * the value.
 */
function checkSetCookie(header, cleared) {
  const [nameValue, ...attrs] = header.split(';').map((x) => x.trim());
  const eq = nameValue.indexOf('=');
  assert.equal(nameValue.slice(0, eq), NAME, header);
  const value = nameValue.slice(eq + 1);
  const a = new Map(attrs.map((x) => {
    const i = x.indexOf('=');
    return i < 0 ? [x.toLowerCase(), true] : [x.slice(0, i).toLowerCase(), x.slice(i + 1)];
  }));
  assert.equal(a.size, attrs.length, `no attribute twice: ${header}`);
  assert.deepEqual([...a.keys()].sort(), ['httponly', 'max-age', 'path', 'samesite', 'secure'], header);
  assert.equal(a.get('httponly'), true);
  assert.equal(a.get('secure'), true);
  assert.equal(a.get('samesite'), 'Strict');
  assert.equal(a.get('path'), '/backend/refresh');
  if (cleared) {
    assert.equal(a.get('max-age'), '0', header);
    assert.equal(value, '');
  } else {
    assert.equal(a.get('max-age'), String(MAX_AGE), header);
    assert.match(value, /^[A-Za-z0-9_-]{40,}$/);
  }
  return value;
}

describe('cookie refresh: /backend/session, /backend/refresh, /backend/logout', () => {
  let s;
  const seen = [];	// every response, for the secrecy check
  const refreshTokens = [];

  /* Which kind of Set-Cookie a header is, before checking it as that. */
  function kind(header) {
    return /Max-Age=0(;|$)/.test(header) ? 'cleared' : 'set';
  }

  /* A request through nginx; every Set-Cookie it carries is checked. */
  async function call(method, urlPath, opts) {
    const h = { ...(opts && opts.headers) };
    if (opts && opts.cookie !== undefined) h.cookie = opts.cookie;
    const r = await s.api(method, urlPath, { body: opts && opts.body, headers: h });
    r.cookies = r.headers.getSetCookie();
    seen.push(`${r.status} ${JSON.stringify([...r.headers])} ${r.text}`);
    assert.ok(r.cookies.length <= 1, 'at most one Set-Cookie');
    r.set = null;
    r.cleared = false;
    if (r.cookies.length === 1) {
      if (kind(r.cookies[0]) === 'cleared') r.cleared = checkSetCookie(r.cookies[0], true) === '';
      else r.set = checkSetCookie(r.cookies[0], false);
    }
    return r;
  }

  /* Registers a user, logs in at the simulator, posts /backend/session. */
  async function login(prefix, userData = { theme: 'dark' }) {
    const u = await s.user(prefix, userData);
    const sess = await s.session(u.id);
    refreshTokens.push(sess.refresh_token);
    const r = await call('POST', '/backend/session', {
      body: { refresh_token: sess.refresh_token },
      headers: { authorization: `Bearer ${sess.jwt}` },
    });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.set, 'the session sets the cookie');
    const expired = (await s.session(u.id, { exp_in: -120 })).jwt;
    return { ...u, jwt: sess.jwt, device: sess.device_id, rt: sess.refresh_token, cookie: `${NAME}=${r.set}`, value: r.set, expired, res: r };
  }

  function refresh(jwt, cookie, extra = {}) {
    const headers = { ...extra };
    if (jwt) headers.authorization = `Bearer ${jwt}`;
    return call('GET', '/backend/refresh', { headers, cookie });
  }

  before(async () => {
    s = await start({
      SENTC_BACKEND_COOKIE_KEY: KEY_OLD,
      SENTC_BACKEND_COOKIE_MAX_AGE: String(MAX_AGE),
      SENTC_BACKEND_ALLOWED_ORIGINS: `${APP},http://localhost:3000`,
      SENTC_BACKEND_UPSTREAM_TIMEOUT_MS: '2000',
    });
  });
  after(() => s.stop());

  it('the whole flow: register, login, session, a JWT past its exp, refresh to a new JWT', async () => {
    const u = await s.user('flow', { theme: 'dark', n: 1 });
    const sess = await s.session(u.id);
    refreshTokens.push(sess.refresh_token);

    const r = await call('POST', '/backend/session', {
      body: { refresh_token: sess.refresh_token },
      headers: { authorization: `Bearer ${sess.jwt}` },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { status: true, result: { user_id: u.id, device_id: sess.device_id, user_data: { theme: 'dark', n: 1 } } });
    assert.ok(r.set);
    assert.ok(!r.set.includes(sess.refresh_token));

    // A JWT of this user and device, past its exp: the backend refuses it elsewhere.
    const old = (await s.session(u.id, { exp_in: -120 })).jwt;
    assert.ok(claims(old).exp < Date.now() / 1000 - 60);
    const me = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${old}` } });
    assert.equal(me.status, 401);
    assert.equal(me.json.err_code, 20017);

    await s.clearLog();
    const rf = await refresh(old, `other=1; ${NAME}=${r.set}; x=y`);
    assert.equal(rf.status, 200, rf.text);
    assert.match(rf.headers.get('content-type'), /^text\/plain/);
    assert.equal(rf.headers.get('cache-control'), 'no-store');
    assert.equal(rf.cookies.length, 0, 'the cookie stays as it is');
    assert.match(rf.text, JWT_SHAPE, 'the body is the JWT alone');
    assert.ok(verifies(rf.text, verifyKey(s.config.SENTC_JWT_VERIFY_KEY)), 'the new JWT verifies with the app key');
    const c = claims(rf.text);
    assert.equal(c.fresh, false);
    assert.equal(c.aud, u.id);
    assert.equal(c.sub, sess.device_id);
    assert.ok(c.exp > Date.now() / 1000);

    // Upstream: one PUT /refresh with the old JWT, the refresh token and the secret token.
    const up = await s.upstream();
    assert.equal(up.length, 1);
    assert.equal(up[0].method, 'PUT');
    assert.equal(up[0].path, '/api/v1/refresh');
    assert.equal(up[0].auth, old);
    assert.equal(up[0].token, 'secret');
    assert.deepEqual(up[0].body, { refresh_token: sess.refresh_token });

    // The new JWT works, and refreshing again (with POST, for cookie_fn) works too.
    const me2 = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${rf.text}` } });
    assert.equal(me2.status, 200, me2.text);
    const again = await call('POST', '/backend/refresh', { headers: { authorization: `Bearer ${rf.text}` }, cookie: `${NAME}=${r.set}` });
    assert.equal(again.status, 200, again.text);
    assert.match(again.text, JWT_SHAPE);
  });

  it('answers the user_data of a user without an own row as null, and still sets the cookie', async () => {
    const u = await s.user('norow');
    s.sql(`DELETE FROM users WHERE user_id = '${u.id}'`);
    const sess = await s.session(u.id);
    refreshTokens.push(sess.refresh_token);
    const r = await call('POST', '/backend/session', {
      body: { refresh_token: sess.refresh_token },
      headers: { authorization: `Bearer ${sess.jwt}` },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.result, { user_id: u.id, device_id: sess.device_id, user_data: null });
    assert.ok(r.set);
  });

  it('refuses a tampered cookie (one flipped bit) with 401, clears it, and calls nobody', async () => {
    const a = await login('tamper');
    const raw = Buffer.from(a.value, 'base64url');
    for (const at of [0, 5, 20, raw.length - 1]) {
      const t = Buffer.from(raw);
      t[at] ^= 0x04;
      await s.clearLog();
      const r = await refresh(a.expired, `${NAME}=${t.toString('base64url')}`);
      assert.equal(r.status, 401, `byte ${at}: ${r.text}`);
      assert.equal(r.json.err_code, 20031);
      assert.ok(r.cleared, 'the cookie is cleared');
      assert.deepEqual(await s.upstream(), []);
    }
    // Not base64url, truncated: the same.
    for (const v of ['%%%', a.value.slice(0, -3), `${a.value}AAAA`, '']) {
      const r = await refresh(a.expired, `${NAME}=${v}`);
      assert.equal(r.status, 401);
      assert.equal(r.json.err_code, 20031);
      assert.ok(r.cleared);
    }
    // The untouched cookie still works.
    assert.equal((await refresh(a.expired, a.cookie)).status, 200);
  });

  it("refuses another user's JWT with this cookie, and clears it", async () => {
    const a = await login('owner');
    const b = await login('other');
    await s.clearLog();
    for (const jwt of [b.jwt, b.expired]) {
      const r = await refresh(jwt, a.cookie);
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.err_code, 20031);
      assert.ok(r.cleared);
    }
    assert.deepEqual(await s.upstream(), []);
  });

  it("refuses the user's own other device: the cookie is bound to the JWT's sub too", async () => {
    const a = await login('device');
    // A JWT for the same user on another device, signed with the app's key as sentc would.
    const [h] = a.jwt.split('.');
    const c = { ...claims(a.jwt), sub: crypto.randomUUID() };
    const signKey = crypto.createPrivateKey({ key: Buffer.from(s.config.SENTC_JWT_SIGN_KEY, 'base64'), format: 'der', type: 'pkcs8' });
    const body = `${h}.${Buffer.from(JSON.stringify(c)).toString('base64url')}`;
    const sig = crypto.sign('sha384', Buffer.from(body), { key: signKey, dsaEncoding: 'ieee-p1363' });
    const other = `${body}.${sig.toString('base64url')}`;
    assert.ok(verifies(other, verifyKey(s.config.SENTC_JWT_VERIFY_KEY)));
    await s.clearLog();
    const r = await refresh(other, a.cookie);
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.err_code, 20031);
    assert.ok(r.cleared);
    assert.deepEqual(await s.upstream(), []);
  });

  it('refuses a missing cookie with 401 and a clearing Set-Cookie', async () => {
    const a = await login('missing');
    await s.clearLog();
    for (const cookie of [undefined, 'other=1; x=2', `${NAME}x=${a.value}`, `x${NAME}=${a.value}`]) {
      const r = await refresh(a.expired, cookie);
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.err_code, 20031);
      assert.ok(r.cleared);
    }
    assert.deepEqual(await s.upstream(), []);
  });

  it('takes the value that opens when the name appears twice (a cookie planted by a sibling site)', async () => {
    const a = await login('dup');
    const r = await refresh(a.expired, `${NAME}=planted-garbage; ${NAME}=${a.value}`);
    assert.equal(r.status, 200, r.text);
  });

  it('refuses a forged, a missing or a malformed old JWT before any upstream call, and keeps the cookie', async () => {
    const a = await login('forged');
    await s.clearLog();
    for (const [jwt, code] of [[forge(a.expired), 20016], [forge(a.jwt), 20016], [null, 20012], ['abc.def', 20013]]) {
      const r = await refresh(jwt, a.cookie);
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.err_code, code);
      assert.equal(r.cookies.length, 0, 'a bad JWT says nothing about the cookie');
    }
    assert.deepEqual(await s.upstream(), []);
    assert.equal((await refresh(a.expired, a.cookie)).status, 200);
  });

  it('refuses a refresh token revoked at sentc (114) with 401 and clears the cookie', async () => {
    const a = await login('revoked');
    assert.deepEqual(await s.sim('POST', 'revoke', { refresh_token: a.rt }), { ok: true, revoked: true });
    await s.clearLog();
    const r = await refresh(a.expired, a.cookie);
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.status, false);
    assert.equal(r.json.err_code, 20031);
    assert.ok(r.cleared);
    const up = await s.upstream();
    assert.equal(up.length, 1, 'sentc was asked');
    assert.equal(up[0].path, '/api/v1/refresh');
  });

  it('answers 502 or 504 on an upstream fault, and keeps the cookie', async () => {
    const a = await login('fault');
    for (const [fault, status, code] of [
      [{ mode: '5xx', status: 500 }, 502, 20025],
      [{ mode: 'garbage' }, 502, 20010],
      [{ mode: 'close' }, 502, 20009],
      [{ mode: 'delay', delay_ms: 5000 }, 504, 20011],
    ]) {
      // Once: a refresh that may have reached sentc is never sent again.
      await s.sim('POST', 'fail', { path: '/api/v1/refresh', method: 'PUT', count: 1, ...fault });
      const r = await refresh(a.expired, a.cookie);
      await s.sim('DELETE', 'fail');
      assert.equal(r.status, status, `${fault.mode}: ${r.text}`);
      assert.equal(r.json.err_code, code);
      assert.equal(r.cookies.length, 0, `${fault.mode}: the cookie is kept`);
    }
    const r = await refresh(a.expired, a.cookie);
    assert.equal(r.status, 200, r.text);
  });

  it("passes sentc's other refusals through and keeps the cookie", async () => {
    const a = await login('blocked');
    await s.sim('POST', 'endpoint', { endpoint: 'refresh', kind: 'blocked' });
    try {
      const r = await refresh(a.expired, a.cookie);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.err_code, 203);
      assert.equal(r.cookies.length, 0);
    } finally {
      await s.sim('POST', 'endpoint', { endpoint: 'refresh', kind: 'public' });
    }
    // An app that makes refresh secret-only (the browser never calls it in cookie mode) still works.
    await s.sim('POST', 'endpoint', { endpoint: 'refresh', kind: 'secret' });
    try {
      assert.equal((await refresh(a.expired, a.cookie)).status, 200);
    } finally {
      await s.sim('POST', 'endpoint', { endpoint: 'refresh', kind: 'public' });
    }
  });

  it("answers sentc's refusal that comes with HTTP 200 (35, its key id unknown) with 401: never a 200 that is no JWT", async () => {
    const a = await login('kid');
    // sentc drops the key the JWT was signed with; the backend still lists it.
    const kid = s.config.SENTC_JWT_KEY_ID;
    const next = genKeyEnv();
    await s.sim('POST', 'keys', { kid: next.kid, sign_key: next.signKeyB64, current: true });
    await s.sim('DELETE', 'keys', { kid });
    try {
      await s.clearLog();
      const r = await refresh(a.expired, a.cookie);
      const [up] = await s.upstream();
      assert.equal(up.status, 200, 'sentc refused with HTTP 200');
      assert.equal(JSON.parse(up.response).err_code, 35);
      assert.equal(r.status, 401, r.text);
      assert.equal(r.text, up.response, "sentc's envelope, unchanged");
      assert.doesNotMatch(r.text, JWT_SHAPE);
      assert.equal(r.cookies.length, 0, 'the cookie is kept');
    } finally {
      await s.sim('POST', 'keys', { kid, sign_key: s.config.SENTC_JWT_SIGN_KEY, current: true });
      await s.sim('DELETE', 'keys', { kid: next.kid });
    }
    assert.equal((await refresh(a.expired, a.cookie)).status, 200);
  });

  it('refuses an untrusted, a look-alike or a null Origin on every cookie route with 403, doing nothing else', async () => {
    const a = await login('origin');
    const bad = ['https://evil.example', 'https://app.example.com.evil.example', 'https://app-example.com',
      'https://app.example.co', 'https://app.example.com/', 'http://app.example.com', 'https://APP.example.com',
      'https://app.example.com:443', 'null', ''];
    await s.clearLog();
    for (const origin of bad) {
      const rs = [
        await call('POST', '/backend/session', { body: { refresh_token: 'planted' }, headers: { origin, authorization: `Bearer ${a.jwt}` } }),
        await refresh(a.expired, a.cookie, { origin }),
        await call('POST', '/backend/refresh', { headers: { origin, authorization: `Bearer ${a.expired}` }, cookie: a.cookie }),
        await call('POST', '/backend/logout', { headers: { origin }, cookie: a.cookie }),
        await call('OPTIONS', '/backend/refresh', { headers: { origin, 'access-control-request-method': 'GET' } }),
      ];
      for (const r of rs) {
        assert.equal(r.status, 403, `${JSON.stringify(origin)}: ${r.text}`);
        assert.equal(r.json.status, false);
        assert.equal(r.json.err_code, 20030);
        assert.equal(r.cookies.length, 0, 'no cookie set or cleared');
        assert.equal(r.headers.get('access-control-allow-origin'), null);
      }
    }
    assert.deepEqual(await s.upstream(), [], 'nothing went upstream');
    // The same requests from the allowed origin, and without one, work.
    for (const headers of [{ origin: APP }, {}]) {
      const r = await refresh(a.expired, a.cookie, headers);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('access-control-allow-origin'), headers.origin || null);
    }
  });

  it('answers the allowed origin with its CORS headers, a preflight included', async () => {
    const a = await login('cors');
    let r = await call('OPTIONS', '/backend/refresh', {
      headers: { origin: APP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), APP);
    assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(r.headers.get('access-control-allow-methods'), 'GET, POST');
    r = await refresh(a.expired, a.cookie, { origin: APP });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), APP);
    assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
    assert.match(r.headers.get('vary'), /Origin/);
    r = await call('POST', '/backend/session', { body: { refresh_token: a.rt }, headers: { origin: APP, authorization: `Bearer ${a.jwt}` } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('access-control-allow-origin'), APP);
    assert.ok(r.set);
  });

  it('refuses a bad session request with a clear error and sets nothing', async () => {
    const u = await s.user('badsess');
    const sess = await s.session(u.id);
    refreshTokens.push(sess.refresh_token);
    const auth = { authorization: `Bearer ${sess.jwt}` };
    const expired = (await s.session(u.id, { exp_in: -120 })).jwt;
    for (const [body, headers, status, code] of [
      [{ refresh_token: sess.refresh_token }, {}, 401, 20012],
      [{ refresh_token: sess.refresh_token }, { authorization: `Bearer ${expired}` }, 401, 20017],
      [{ refresh_token: sess.refresh_token }, { authorization: `Bearer ${forge(sess.jwt)}` }, 401, 20016],
      ['{"refresh_token":', auth, 400, 20006],
      ['', auth, 400, 20006],
      ['["x"]', auth, 400, 20007],
      [{}, auth, 400, 20034],
      [{ refresh_token: 42 }, auth, 400, 20034],
      [{ refresh_token: null }, auth, 400, 20034],
      [{ refresh_token: '' }, auth, 400, 20034],
      [{ refresh_token: 'x'.repeat(1025) }, auth, 400, 20034],
      [{ refresh_token: 'a\u0001b' }, auth, 400, 20034],
      [{ refresh_token: 'a\u0000b' }, auth, 400, 20034],
      [{ refresh_token: 'a\nb' }, auth, 400, 20034],
    ]) {
      const r = await call('POST', '/backend/session', { body, headers });
      assert.equal(r.status, status, `${JSON.stringify(body).slice(0, 40)}: ${r.text}`);
      assert.equal(r.json.err_code, code);
      assert.equal(r.cookies.length, 0);
    }
    // The longest token is fine.
    const r = await call('POST', '/backend/session', { body: { refresh_token: 'x'.repeat(1024) }, headers: auth });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.set);
    for (const [method, p] of [['GET', '/backend/session'], ['PUT', '/backend/refresh'], ['GET', '/backend/logout']]) {
      const m = await call(method, p, { headers: auth });
      assert.equal(m.status, 405, `${method} ${p}`);
      assert.equal(m.json.err_code, 20002);
      assert.equal(m.cookies.length, 0);
    }
  });

  it('logout clears the cookie and answers 200, with or without one', async () => {
    const a = await login('logout');
    for (const opts of [{ cookie: a.cookie }, {}, { headers: { origin: APP } }]) {
      const r = await call('POST', '/backend/logout', opts);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: true, result: 'Success' });
      assert.ok(r.cleared, 'Max-Age=0 with the same name and path');
    }
  });

  it('rotates keys: an old cookie still works while its key is listed second, and not once it is gone', async () => {
    const a = await login('rotate');
    assert.equal((await refresh(a.expired, a.cookie)).status, 200);

    await s.restart('refresh', { SENTC_BACKEND_COOKIE_KEY: `${KEY_NEW},${KEY_OLD}` });
    await s.restart('session', { SENTC_BACKEND_COOKIE_KEY: `${KEY_NEW},${KEY_OLD}` });
    let r = await refresh(a.expired, a.cookie);
    assert.equal(r.status, 200, `the old cookie opens with its key listed second: ${r.text}`);
    const b = await login('rotate-new');
    assert.equal((await refresh(b.expired, b.cookie)).status, 200);

    // The old key removed: the old cookie is refused (and cleared), the new one still works.
    await s.restart('refresh', { SENTC_BACKEND_COOKIE_KEY: KEY_NEW });
    r = await refresh(a.expired, a.cookie);
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.err_code, 20031);
    assert.ok(r.cleared);
    r = await refresh(b.expired, b.cookie);
    assert.equal(r.status, 200, `the new cookie was sealed with the first key: ${r.text}`);

    await s.restart('refresh', { SENTC_BACKEND_COOKIE_KEY: KEY_OLD });
    await s.restart('session', { SENTC_BACKEND_COOKIE_KEY: KEY_OLD });
  });

  it('without a cookie key, the cookie routes answer 503 and logout still clears', async () => {
    const a = await login('nokey');
    await s.restart('refresh', { SENTC_BACKEND_COOKIE_KEY: '' });
    await s.restart('session', { SENTC_BACKEND_COOKIE_KEY: '' });
    try {
      await s.clearLog();
      const r1 = await refresh(a.expired, a.cookie);
      const r2 = await call('POST', '/backend/session', { body: { refresh_token: a.rt }, headers: { authorization: `Bearer ${a.jwt}` } });
      for (const r of [r1, r2]) {
        assert.equal(r.status, 503, r.text);
        assert.equal(r.json.err_code, 20038);
        assert.match(r.json.err_msg, /SENTC_BACKEND_COOKIE_KEY/);
        assert.equal(r.cookies.length, 0);
      }
      assert.deepEqual(await s.upstream(), []);
      const r3 = await call('POST', '/backend/logout', {});
      assert.equal(r3.status, 200);
      assert.ok(r3.cleared);
    } finally {
      await s.restart('refresh', { SENTC_BACKEND_COOKIE_KEY: KEY_OLD });
      await s.restart('session', { SENTC_BACKEND_COOKIE_KEY: KEY_OLD });
    }
    assert.equal((await refresh(a.expired, a.cookie)).status, 200);
  });

  it('never shows a refresh token or the cookie key in a response or a log line', async () => {
    assert.ok(refreshTokens.length >= 10);
    const keys = [KEY_OLD, KEY_NEW].flatMap((k) => {
      const raw = Buffer.from(k, 'base64');
      return [k, k.replace(/=+$/, ''), raw.toString('base64url'), raw.toString('hex')];
    });
    const logs = {
      'backend.log': s.log(),
      'nginx-error.log': fs.readFileSync(path.join(s.dir, 'nginx-error.log'), 'utf8'),
    };
    assert.ok(s.logRecords('session').length > 0, 'the log has the session lines');
    for (const secret of [...refreshTokens, ...keys]) {
      for (const text of seen) assert.ok(!text.includes(secret), 'a response holds a secret');
      for (const [name, text] of Object.entries(logs)) assert.ok(!text.includes(secret), `${name} holds a secret`);
    }
  });
});

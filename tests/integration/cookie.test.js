'use strict';
/*
 * The SDK's cookie mode through nginx: POST /backend/session sets the
 * encrypted refresh cookie, GET (or POST) /backend/refresh turns an old
 * JWT and the cookie into a new JWT through sentc's PUT /refresh, POST
 * /backend/logout ends the session and clears it. Origins, key rotation,
 * upstream faults, the end of a session for every copy of its cookie,
 * planted cookies, and that no secret ever shows.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { start, forge, claims, waitFor } = require('./harness');
const { genKeyEnv } = require('../sentc-sim/keys');

const NAME = 'sentc_refresh';
const MAX_AGE = 3600;
const APP = 'https://app.example.com';
const KEY_OLD = crypto.randomBytes(32).toString('base64');
const KEY_NEW = crypto.randomBytes(32).toString('base64');
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/*
 * A cookie value in the format earlier releases sealed (version 1): the
 * sealing time and the token, with aud and sub bound in as additional
 * data; such cookies were set with Path=/backend/refresh.
 */
function sealV1(keyB64, at, aud, sub, token) {
  const nonce = crypto.randomBytes(12);
  const t = Buffer.alloc(8);
  t.writeBigUInt64BE(BigInt(at));
  const c = crypto.createCipheriv('aes-256-gcm', Buffer.from(keyB64, 'base64'), nonce);
  c.setAAD(Buffer.concat([Buffer.from([1]), Buffer.from(aud), Buffer.from([0]), Buffer.from(sub)]));
  const ct = Buffer.concat([c.update(Buffer.concat([t, Buffer.from(token)])), c.final()]);
  return Buffer.concat([Buffer.from([1]), nonce, ct, c.getAuthTag()]).toString('base64url');
}

/* Waits until the wall clock is past the second it shows now. */
async function nextSecond() {
  const t = Math.floor(Date.now() / 1000);
  await waitFor(() => Math.floor(Date.now() / 1000) > t, 5000, 'the next second');
}

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
 * SameSite=Strict, Path, Max-Age, nothing else: a cookie set has Path
 * /backend and maxAge (default MAX_AGE); a cookie cleared, Path /backend
 * or /backend/refresh (where cookies of the old format were set).
 * Returns { value, path }.
 */
function checkSetCookie(header, cleared, maxAge = MAX_AGE) {
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
  if (cleared) {
    assert.ok(['/backend', '/backend/refresh'].includes(a.get('path')), header);
    assert.equal(a.get('max-age'), '0', header);
    assert.equal(value, '');
  } else {
    assert.equal(a.get('path'), '/backend', header);
    if (maxAge === MAX_AGE) assert.equal(a.get('max-age'), String(MAX_AGE), header);
    else assert.ok(Number(a.get('max-age')) > 0 && Number(a.get('max-age')) <= maxAge, header);
    assert.match(value, /^[A-Za-z0-9_-]{40,}$/);
  }
  return { value, path: a.get('path') };
}

describe('cookie refresh: /backend/session, /backend/refresh, /backend/logout', () => {
  let s;
  const seen = [];	// every response, for the secrecy check
  const refreshTokens = [];

  /* Which kind of Set-Cookie a header is, before checking it as that. */
  function kind(header) {
    return /Max-Age=0(;|$)/.test(header) ? 'cleared' : 'set';
  }

  /*
   * A request through nginx; every Set-Cookie it carries is checked.
   * r.set: the value of a cookie set; r.cleared: the cookie cleared under
   * both paths (and nothing set); r.clearedOld: cleared under the old
   * path only (a cookie of the old format moved to the new path).
   */
  async function call(method, urlPath, opts) {
    const h = { ...(opts && opts.headers) };
    if (opts && opts.cookie !== undefined) h.cookie = opts.cookie;
    const r = await s.api(method, urlPath, { body: opts && opts.body, headers: h });
    r.cookies = r.headers.getSetCookie();
    seen.push(`${r.status} ${JSON.stringify([...r.headers])} ${r.text}`);
    r.set = null;
    const clearedPaths = [];
    for (const c of r.cookies) {
      if (kind(c) === 'cleared') clearedPaths.push(checkSetCookie(c, true).path);
      else {
        assert.equal(r.set, null, 'at most one cookie set');
        r.set = checkSetCookie(c, false, (opts && opts.maxAge) || MAX_AGE).value;
      }
    }
    clearedPaths.sort();
    assert.equal(new Set(clearedPaths).size, clearedPaths.length, 'no path cleared twice');
    r.cleared = r.set === null && clearedPaths.join() === '/backend,/backend/refresh';
    r.clearedOld = clearedPaths.join() === '/backend/refresh';
    if (r.set !== null) assert.ok(clearedPaths.length === 0 || r.clearedOld, 'a cookie set clears only the old path');
    else assert.ok(clearedPaths.length === 0 || r.cleared, 'a clearing covers both paths');
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

    // Upstream: one PUT /refresh with the old JWT, the refresh token and the token of
    // user_jwt_refresh (public by default, as sentc's app option).
    const up = await s.upstream();
    assert.equal(up.length, 1);
    assert.equal(up[0].method, 'PUT');
    assert.equal(up[0].path, '/api/v1/refresh');
    assert.equal(up[0].auth, old);
    assert.equal(up[0].token, 'public');
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
    await s.sim('POST', 'endpoint', { endpoint: 'user_jwt_refresh', kind: 'blocked' });
    try {
      const r = await refresh(a.expired, a.cookie);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.err_code, 203);
      assert.equal(r.cookies.length, 0);
    } finally {
      await s.sim('POST', 'endpoint', { endpoint: 'user_jwt_refresh', kind: 'public' });
    }
    // An app that makes refresh secret-only (the browser never calls it in cookie mode) works
    // once the backend's setting says so; until then sentc's 203 comes back, the cookie kept.
    await s.sim('POST', 'endpoint', { endpoint: 'user_jwt_refresh', kind: 'secret' });
    try {
      const r = await refresh(a.expired, a.cookie);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.err_code, 203);
      assert.equal(r.cookies.length, 0);
      await s.restart('refresh', { SENTC_BACKEND_TOKEN_USER_JWT_REFRESH: 'secret' });
      await s.clearLog();
      assert.equal((await refresh(a.expired, a.cookie)).status, 200);
      assert.deepEqual((await s.upstream()).map((x) => x.token), ['secret']);
    } finally {
      await s.sim('POST', 'endpoint', { endpoint: 'user_jwt_refresh', kind: 'public' });
      await s.restart('refresh');
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
    assert.equal(r.headers.get('access-control-allow-methods'), 'GET, HEAD, POST');
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

  /* What sentc itself answers to a refresh with this token (the backend not asked). */
  async function atSentc(jwt, rt) {
    const res = await fetch(`${s.simBase}/api/v1/refresh`, {
      method: 'PUT',
      headers: { 'x-sentc-app-token': s.config.SENTC_PUBLIC_TOKEN, authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: rt }),
    });
    return res.json();
  }

  const admin = () => ({ authorization: `Bearer ${s.config.SENTC_BACKEND_ADMIN_TOKEN}` });

  it('logout ends the session for every copy of the cookie, also after a restart, though sentc still knows the token', async () => {
    const a = await login('copied');
    const copy = a.cookie;	// the same cookie, copied to another browser
    assert.equal((await refresh(a.expired, copy)).status, 200, 'the copy works before the logout');

    const out = await call('POST', '/backend/logout', { cookie: a.cookie });
    assert.equal(out.status, 200, out.text);
    assert.ok(out.cleared);

    await s.clearLog();
    let r = await refresh(a.expired, copy);
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.err_code, 20031);
    assert.match(r.json.err_msg, /ended/);
    assert.ok(r.cleared, 'the copy is cleared where it was sent from');
    assert.deepEqual(await s.upstream(), [], 'decided without sentc');
    // sentc has no call that ends one refresh token: it would still refresh.
    const direct = await atSentc(a.expired, a.rt);
    assert.equal(direct.status, true, JSON.stringify(direct));

    // Recorded by a digest of the token, never the token.
    const rows = s.rows('SELECT digest FROM ended_tokens');
    assert.ok(rows.length >= 1);
    for (const row of rows) {
      assert.match(row.digest, /^[0-9a-f]{64}$/);
      assert.notEqual(row.digest, a.rt);
    }
    assert.ok(!JSON.stringify(s.rows('SELECT * FROM ended_tokens')).includes(a.rt));

    // Records no cookie can outlive any more go with the next end; the others stay.
    const now = Math.floor(Date.now() / 1000);
    const stale = 'f'.repeat(64);
    const recent = 'e'.repeat(64);
    s.sql(`INSERT INTO ended_tokens (digest, at) VALUES ('${stale}', ${now - MAX_AGE - 301}), ('${recent}', ${now - MAX_AGE + 60})`);
    s.sql(`INSERT INTO ended_users (user_id, at) VALUES ('${crypto.randomUUID()}', ${now - MAX_AGE - 301})`);
    const b = await login('purge');
    assert.equal((await call('POST', '/backend/logout', { cookie: b.cookie })).status, 200);
    assert.deepEqual(s.rows(`SELECT digest FROM ended_tokens WHERE digest IN ('${stale}', '${recent}')`).map((x) => x.digest), [recent]);
    assert.deepEqual(s.rows(`SELECT user_id FROM ended_users WHERE at < ${now - MAX_AGE - 300}`), []);

    // The programs restarted: still ended.
    await s.restart('refresh');
    await s.restart('logout');
    r = await refresh(a.expired, copy);
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.err_code, 20031);

    // Only that session: the same user logged in again refreshes.
    const again = await s.session(a.id);
    refreshTokens.push(again.refresh_token);
    const set = await call('POST', '/backend/session', {
      body: { refresh_token: again.refresh_token }, headers: { authorization: `Bearer ${again.jwt}` },
    });
    assert.equal(set.status, 200, set.text);
    assert.equal((await refresh(a.expired, `${NAME}=${set.set}`)).status, 200);

    // The ended token cannot be made into a new cookie either.
    const fresh = await s.session(a.id);
    refreshTokens.push(fresh.refresh_token);
    r = await call('POST', '/backend/session', { body: { refresh_token: a.rt }, headers: { authorization: `Bearer ${fresh.jwt}` } });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.err_code, 20031);
    assert.equal(r.cookies.length, 0);
  });

  it('logout keeps the cookie and answers 503 when the store cannot record the end; once it can, the end holds', async () => {
    const a = await login('logout-store');
    const undo = s.failWrites('ended_tokens', 'INSERT');
    let r;
    try {
      r = await call('POST', '/backend/logout', { cookie: a.cookie });
    } finally {
      undo();
    }
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.err_code, 20020);
    assert.equal(r.cookies.length, 0, 'kept, so that the logout can be repeated');
    assert.equal((await refresh(a.expired, a.cookie)).status, 200, 'the session goes on');
    r = await call('POST', '/backend/logout', { cookie: a.cookie });
    assert.equal(r.status, 200, r.text);
    assert.equal((await refresh(a.expired, a.cookie)).status, 401);
  });

  it('DELETE /api/v1/user/forced/sessions ends every cookie of that user at once, without asking sentc, and no other user\'s', async () => {
    const a = await login('forced');
    const second = await s.session(a.id);	// the same user in another browser
    refreshTokens.push(second.refresh_token);
    const b = await call('POST', '/backend/session', {
      body: { refresh_token: second.refresh_token }, headers: { authorization: `Bearer ${second.jwt}` },
    });
    assert.equal(b.status, 200, b.text);
    const other = await login('forced-other');
    const pre = await s.session(a.id);	// a login before the end, its cookie not made yet
    refreshTokens.push(pre.refresh_token);

    const r = await s.api('DELETE', '/api/v1/user/forced/sessions', { body: { user_identifier: a.name }, headers: admin() });
    assert.equal(r.status, 200, r.text);
    assert.equal(s.rows(`SELECT 1 FROM ended_users WHERE user_id = '${a.id}'`).length, 1);

    await s.clearLog();
    for (const cookie of [a.cookie, `${NAME}=${b.set}`]) {
      const rf = await refresh(a.expired, cookie);
      assert.equal(rf.status, 401, rf.text);
      assert.equal(rf.json.err_code, 20031);
      assert.ok(rf.cleared);
    }
    assert.deepEqual(await s.upstream(), [], 'refused by the backend itself, however sentc would answer');
    assert.equal((await refresh(other.expired, other.cookie)).status, 200, 'another user goes on');
    // A JWT issued before the end cannot make a new cookie.
    const late = await call('POST', '/backend/session', {
      body: { refresh_token: pre.refresh_token }, headers: { authorization: `Bearer ${pre.jwt}` },
    });
    assert.equal(late.status, 401, late.text);
    assert.equal(late.json.err_code, 20031);
    assert.equal(late.cookies.length, 0);

    // A login after the end works (a second later: the end covers its own second).
    await nextSecond();
    const later = await s.session(a.id);
    refreshTokens.push(later.refresh_token);
    const c = await call('POST', '/backend/session', {
      body: { refresh_token: later.refresh_token }, headers: { authorization: `Bearer ${later.jwt}` },
    });
    assert.equal(c.status, 200, c.text);
    assert.equal((await refresh(a.expired, `${NAME}=${c.set}`)).status, 200);
  });

  it('deleting the user (DELETE /api/v1/user, or the forced deletes) ends every cookie of that user without asking sentc', async () => {
    for (const how of ['self', 'forced-id', 'forced-identifier']) {
      const a = await login(`gone-${how}`);
      let r;
      if (how === 'self') r = await s.api('DELETE', '/api/v1/user', { headers: { authorization: `Bearer ${a.jwt}` } });
      else if (how === 'forced-id') r = await s.api('DELETE', `/api/v1/user/forced/delete/${a.id}`, { headers: admin() });
      else r = await s.api('PUT', '/api/v1/user/forced/delete', { body: { user_identifier: a.name }, headers: admin() });
      assert.equal(r.status, 200, `${how}: ${r.text}`);
      await s.clearLog();
      const rf = await refresh(a.expired, a.cookie);
      assert.equal(rf.status, 401, `${how}: ${rf.text}`);
      assert.equal(rf.json.err_code, 20031);
      assert.ok(rf.cleared);
      assert.deepEqual(await s.upstream(), [], `${how}: decided without sentc`);
    }
  });

  it('cookie flooding: planted values before the real cookie neither hide it nor get it cleared', async () => {
    const a = await login('flood');
    const b = await login('flood-other');
    for (const planted of [
      ['garbage-1', 'garbage-2', 'garbage-3', 'garbage-4'],
      Array.from({ length: 60 }, (_, i) => `p${i}`),
      [b.value, b.value, b.value, b.value, b.value],	// real cookies, of another user
      Array.from({ length: 5 }, () => crypto.randomBytes(120).toString('base64url')),
    ]) {
      const cookie = [...planted.map((v) => `${NAME}=${v}`), a.cookie].join('; ');
      await s.clearLog();
      const r = await refresh(a.expired, cookie);
      assert.equal(r.status, 200, `${planted.length} planted: ${r.text}`);
      assert.equal(r.cookies.length, 0, 'nothing cleared, nothing set');
      const up = await s.upstream();
      assert.equal(up.length, 1);
      assert.deepEqual(up[0].body, { refresh_token: a.rt });
    }
    // Nothing but planted values: every one was tried, and the cookie goes.
    const r = await refresh(a.expired, ['x1', 'x2', 'x3', 'x4', 'x5'].map((v) => `${NAME}=${v}`).join('; '));
    assert.equal(r.status, 401);
    assert.ok(r.cleared);
  });

  it('cookie flooding: an ended or dead copy of the user\'s own cookie planted first is skipped, and the real one kept', async () => {
    // An old session of the same user, logged out: its cookie planted again.
    const old = await login('flood-own');
    const logout = await call('POST', '/backend/logout', { cookie: old.cookie });
    assert.equal(logout.status, 200);
    const sess = await s.session(old.id);
    refreshTokens.push(sess.refresh_token);
    const cur = await call('POST', '/backend/session', {
      body: { refresh_token: sess.refresh_token }, headers: { authorization: `Bearer ${sess.jwt}` },
    });
    assert.equal(cur.status, 200);
    await s.clearLog();
    let r = await refresh(old.expired, `${old.cookie}; ${NAME}=${cur.set}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.cookies.length, 0);
    let up = await s.upstream();
    assert.equal(up.length, 1, 'the ended one is not offered to sentc');
    assert.deepEqual(up[0].body, { refresh_token: sess.refresh_token });

    // One whose token sentc no longer knows: offered, refused (114), and the next one used.
    const dead = await s.session(old.id);
    refreshTokens.push(dead.refresh_token);
    const d = await call('POST', '/backend/session', {
      body: { refresh_token: dead.refresh_token }, headers: { authorization: `Bearer ${dead.jwt}` },
    });
    assert.equal((await s.sim('POST', 'revoke', { refresh_token: dead.refresh_token })).revoked, true);
    await s.clearLog();
    r = await refresh(old.expired, `${NAME}=${d.set}; ${NAME}=${cur.set}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.cookies.length, 0, 'the real cookie is not cleared');
    up = await s.upstream();
    assert.deepEqual(up.map((x) => x.body.refresh_token), [dead.refresh_token, sess.refresh_token]);
  });

  it('a Cookie header too long to read is a 400 that clears nothing', async () => {
    const a = await login('bomb');
    const filler = Array.from({ length: 12 }, (_, i) => `f${i}=${'x'.repeat(800)}`).join('; ');
    await s.clearLog();
    const r = await refresh(a.expired, `${filler}; ${a.cookie}`);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.err_code, 20024);
    assert.equal(r.cookies.length, 0);
    assert.deepEqual(await s.upstream(), []);
    const out = await call('POST', '/backend/logout', { cookie: `${filler}; ${a.cookie}` });
    assert.equal(out.status, 400, out.text);
    assert.equal(out.cookies.length, 0);
    assert.equal((await refresh(a.expired, a.cookie)).status, 200);
  });

  it('a cookie of the old format (Path=/backend/refresh) still refreshes, moves to Path=/backend with its own end, and then logs out', async () => {
    const a = await login('v1');
    const sealedAt = Math.floor(Date.now() / 1000) - 100;
    const v1 = `${NAME}=${sealV1(KEY_OLD, sealedAt, a.id, a.device, a.rt)}`;
    let r = await call('GET', '/backend/refresh', { headers: { authorization: `Bearer ${a.expired}` }, cookie: v1, maxAge: MAX_AGE - 99 });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, JWT_SHAPE);
    assert.ok(r.set, 'sealed again in the current format');
    assert.ok(r.clearedOld, 'and cleared under the old path');
    const moved = `${NAME}=${r.set}`;
    // The moved cookie works as any other, and logout now receives and ends it.
    r = await refresh(a.expired, moved);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.cookies.length, 0);
    r = await call('POST', '/backend/logout', { cookie: moved });
    assert.equal(r.status, 200);
    for (const cookie of [moved, v1]) {
      r = await refresh(a.expired, cookie);
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.err_code, 20031);
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

'use strict';
/*
 * POST /api/v1/verify_login through nginx (cgi-bin/verify-login.c): the
 * SDK's own login() and mfa_login() (sentc_wasm, in Node) with the backend
 * as base_url, the simulator as sentc. The refresh token goes into the
 * refresh cookie and its string in the answer becomes "", every other byte
 * as sentc sent it; the cookie then refreshes. sentc's refusals, a body
 * that is no JSON object, faults, the token kind, the Origin, no cookie
 * key, a JWT whose key is not configured; no refresh token in any answer
 * or log line.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { start, claims } = require('./harness');
const { totp } = require('../lib/common');
const { genKeyEnv } = require('../sentc-sim/keys');
const { sdk, sent, forget, sdkError } = require('../e2e/sdk');

const PASSWORD = 'correct horse battery staple';
const ROUTE = '/api/v1/verify_login';
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

let seq = 0;
const uniq = (p) => `${p}-${process.pid}-${++seq}`;

/* A Set-Cookie header as {name, value, attrs: Map of lower-case name to value (true if bare)}. */
function parseSetCookie(header) {
  const [nv, ...rest] = header.split(';').map((x) => x.trim());
  const eq = nv.indexOf('=');
  const attrs = new Map(rest.map((x) => {
    const i = x.indexOf('=');
    return i < 0 ? [x.toLowerCase(), true] : [x.slice(0, i).toLowerCase(), x.slice(i + 1)];
  }));
  return { name: nv.slice(0, eq), value: nv.slice(eq + 1), attrs };
}

describe('POST /api/v1/verify_login: the login captured into the cookie', () => {
  let s;
  let pub;
  const answers = [];	// every answer the client got, for the secrecy check
  const tokens = [];	// every refresh token sentc issued for a login through the backend

  before(async () => {
    s = await start();
    pub = s.config.SENTC_PUBLIC_TOKEN;
  });
  after(() => s.stop());
  beforeEach(async () => {
    await s.clearLog();
    forget();
  });

  /* What the SDK sent to the backend since forget(), with the answers it got. */
  const sdkSent = () => sent().filter((r) => r.url.startsWith(`${s.base}/api/`));

  /* The SDK's own register, through the backend. */
  async function sdkRegister(prefix) {
    const name = uniq(prefix);
    const id = await sdk.register(s.base, pub, name, PASSWORD);
    forget();
    await s.clearLog();
    return { name, id };
  }

  /* sentc's record of its verify_login answers since clearLog(): the refresh tokens in them noted. */
  async function sentcVerify() {
    const ups = (await s.upstream()).filter((x) => x.path === ROUTE);
    for (const u of ups) {
      const result = u.response && JSON.parse(u.response).result;
      if (result && result.refresh_token) tokens.push(result.refresh_token);
    }
    return ups;
  }

  /* The answer the SDK got for verify_login, noted for the secrecy check. */
  function verifyAnswer() {
    const v = sdkSent().filter((r) => new URL(r.url).pathname === ROUTE);
    assert.equal(v.length, 1, 'one verify_login');
    answers.push(JSON.stringify(v[0].response));
    return v[0];
  }

  async function refresh(jwt, cookie) {
    const res = await fetch(`${s.base}/backend/refresh`, { headers: { authorization: `Bearer ${jwt}`, cookie } });
    const r = { status: res.status, type: res.headers.get('content-type'), text: await res.text(), setCookie: res.headers.getSetCookie() };
    answers.push(JSON.stringify(r));
    return r;
  }

  it('login(): the refresh token goes into the cookie, "" to the SDK, the rest of the answer as sentc sent it', async () => {
    const u = await sdkRegister('alice');
    const out = await sdk.login(s.base, pub, u.name, PASSWORD);
    assert.equal(out.get_refresh_token(), '', 'the SDK holds no refresh token');
    assert.equal(out.get_id(), u.id);
    const c = claims(out.get_jwt());
    assert.equal(c.aud, u.id);
    assert.equal(c.fresh, true);
    assert.equal(out.get_user_keys().length, 1, 'the SDK decrypted the user keys it got');
    assert.deepEqual(sdkSent().map((r) => new URL(r.url).pathname),
      ['/api/v1/prepare_login', '/api/v1/done_login', ROUTE], 'the SDK called its own paths on the backend');

    const v = verifyAnswer();
    const [up] = await sentcVerify();
    assert.equal(up.token, 'public', 'relayed with the token of user_done_login, public by default');
    assert.deepEqual(up.body, JSON.parse(v.body), 'the body went to sentc as the SDK sent it');
    assert.equal(up.status, 200);
    const rt = JSON.parse(up.response).result.refresh_token;
    assert.match(rt, /^[A-Za-z0-9_-]{67}$/);
    assert.equal(v.response.status, 200);
    assert.equal(v.response.headers['content-type'], 'application/json');
    assert.equal(v.response.text, up.response.replace(`"refresh_token":"${rt}"`, '"refresh_token":""'),
      'byte for byte but for the token');
    assert.ok(!JSON.stringify(v.response).includes(rt));

    // The cookie: sealed as /backend/session seals it, same name and attributes.
    assert.equal(v.response.setCookie.length, 1);
    const cookie = parseSetCookie(v.response.setCookie[0]);
    const sess = await s.session(u.id);
    const other = await fetch(`${s.base}/backend/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sess.jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: sess.refresh_token }),
    });
    assert.equal(other.status, 200);
    const ref = parseSetCookie(other.headers.getSetCookie()[0]);
    assert.equal(cookie.name, ref.name);
    assert.deepEqual(cookie.attrs, ref.attrs);
    assert.equal(cookie.attrs.get('httponly'), true);
    assert.equal(cookie.attrs.get('secure'), true);
    assert.equal(cookie.attrs.get('samesite'), 'Strict');
    assert.equal(cookie.attrs.get('path'), '/backend');
    assert.ok(!cookie.value.includes(rt));

    // The SDK's cookie refresh: the old JWT and the cookie give a new JWT, from that refresh token.
    await s.clearLog();
    const r = await refresh(out.get_jwt(), `${cookie.name}=${cookie.value}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.type, 'text/plain');
    assert.match(r.text, JWT_SHAPE);
    assert.equal(claims(r.text).sub, c.sub);
    assert.equal(claims(r.text).fresh, false);
    const refreshed = await s.upstream();
    assert.deepEqual(refreshed.map((x) => [x.method, x.path]), [['PUT', '/api/v1/refresh']]);
    assert.equal(refreshed[0].body.refresh_token, rt);
  });

  it('mfa_login() takes the same path at its last step, with a TOTP code or a recovery key', async () => {
    const u = await sdkRegister('mfa');
    const otp = await s.sim('POST', 'otp', { device_identifier: u.name });
    const pre = await sdk.login(s.base, pub, u.name, PASSWORD);
    assert.equal(pre.get_jwt(), undefined, 'login() stops at done_login');
    assert.ok(sdkSent().every((r) => r.response.setCookie.length === 0), 'no cookie before verify_login');

    for (const [token, recovery, via] of [[totp(otp.secret), false, 'validate_mfa'],
      [otp.recover[0], true, 'validate_recovery_otp']]) {
      forget();
      await s.clearLog();
      const user = await sdk.mfa_login(s.base, pub, pre.get_mfa_master_key(), pre.get_mfa_auth_key(), u.name, token, recovery);
      assert.deepEqual(sdkSent().map((r) => new URL(r.url).pathname), [`/api/v1/${via}`, ROUTE]);
      assert.equal(user.get_refresh_token(), '');
      assert.equal(user.get_id(), u.id);
      const v = verifyAnswer();
      const [up] = await sentcVerify();
      const rt = JSON.parse(up.response).result.refresh_token;
      assert.equal(v.response.text, up.response.replace(`"refresh_token":"${rt}"`, '"refresh_token":""'));
      const cookie = parseSetCookie(v.response.setCookie[0]);
      const r = await refresh(user.get_jwt(), `${cookie.name}=${cookie.value}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(claims(r.text).aud, u.id);
    }
  });

  it("passes sentc's refusal through unchanged and sets nothing: a used challenge, a wrong key", async () => {
    const u = await sdkRegister('refused');
    await sdk.login(s.base, pub, u.name, PASSWORD);
    const body = verifyAnswer().body;
    await s.clearLog();
    for (const text of [body, JSON.stringify({ ...JSON.parse(body), auth_key: Buffer.alloc(32).toString('base64') })]) {
      const r = await s.api('POST', ROUTE, { body: text, headers: { 'x-sentc-app-token': pub } });
      answers.push(r.text);
      assert.equal(r.status, 401, r.text);
      assert.deepEqual(r.json, { status: false, err_msg: 'Wrong username or password', err_code: 112 });
      assert.deepEqual(r.headers.getSetCookie(), []);
    }
    const ups = await s.upstream();
    assert.equal(ups.length, 2);
    assert.ok(ups.every((x) => x.status === 401));
  });

  it('refuses a body that is no JSON object with 400 and sends nothing', async () => {
    for (const [body, code] of [['{"auth_key":', 20006], ['', 20006], ['[1]', 20007], ['"x"', 20007]]) {
      const r = await s.api('POST', ROUTE, { body, headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.err_code, code);
    }
    const r = await s.api('GET', ROUTE);
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'POST');
    assert.deepEqual(await s.upstream(), []);
  });

  it('refuses an Origin not allowed with 403 and sends nothing; answers an allowed one with CORS', async () => {
    const headers = { origin: 'https://evil.example', 'content-type': 'application/json' };
    const r = await s.api('POST', ROUTE, { body: '{}', headers });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.err_code, 20030);
    assert.deepEqual(await s.upstream(), []);
    const origin = s.config.SENTC_BACKEND_ALLOWED_ORIGINS.split(',')[0];
    const pre = await s.api('OPTIONS', ROUTE, { headers: { origin, 'access-control-request-method': 'POST' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), origin);
    assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
  });

  it('answers an upstream fault with 502 and sets nothing', async () => {
    const u = await sdkRegister('fault');
    for (const [mode, code] of [['garbage', 20010], ['5xx', 20025], ['close', 20009], ['vanish', 20009]]) {
      await s.sim('POST', 'fail', { path: ROUTE, mode });
      forget();
      await assert.rejects(sdk.login(s.base, pub, u.name, PASSWORD), (e) => sdkError(e).status === `server_${code}`);
      const v = verifyAnswer();
      assert.equal(v.response.status, 502, v.response.text);
      assert.deepEqual(v.response.setCookie, []);
    }
    await s.sim('DELETE', 'fail');
  });

  it('relays with the secret token when SENTC_BACKEND_TOKEN_USER_DONE_LOGIN says so', async () => {
    // An app whose logins sentc takes with the secret token only (user_done_login: secret), such
    // as a login its own server makes: done_login passes through with the token the caller sent.
    const sec = s.config.SENTC_SECRET_TOKEN;
    const u = await sdkRegister('secret');
    await s.sim('POST', 'endpoint', { endpoint: 'user_done_login', kind: 'secret' });
    try {
      await assert.rejects(sdk.login(s.base, sec, u.name, PASSWORD), (e) => sdkError(e).status === 'server_203');
      assert.deepEqual((await s.upstream()).map((x) => [x.path, x.token]).slice(-1), [[ROUTE, 'public']]);
      await s.restart('verify-login', { SENTC_BACKEND_TOKEN_USER_DONE_LOGIN: 'secret' });
      await s.clearLog();
      forget();
      const out = await sdk.login(s.base, sec, u.name, PASSWORD);
      assert.equal(out.get_refresh_token(), '');
      verifyAnswer();
      const ups = await sentcVerify();
      assert.deepEqual(ups.map((x) => [x.token, x.status]), [['secret', 200]]);
    } finally {
      await s.sim('POST', 'endpoint', { endpoint: 'user_done_login', kind: 'public' });
      await s.restart('verify-login');
    }
  });

  it('without a cookie key answers 503 (20038) and sends nothing', async () => {
    await s.restart('verify-login', { SENTC_BACKEND_COOKIE_KEY: '' });
    try {
      const r = await s.api('POST', ROUTE, { body: { auth_key: 'a', device_identifier: 'b', challenge: 'c' } });
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.err_code, 20038);
      assert.deepEqual(await s.upstream(), []);
    } finally {
      await s.restart('verify-login');
    }
  });

  it('a JWT of a key made in the dashboard and not yet configured: sentc vouches for it, and the login goes on', async () => {
    const u = await sdkRegister('newkey');
    const next = genKeyEnv();
    await s.sim('POST', 'keys', { kid: next.kid, sign_key: next.signKeyB64, current: true });
    try {
      const out = await sdk.login(s.base, pub, u.name, PASSWORD);
      assert.equal(out.get_refresh_token(), '');
      const v = verifyAnswer();
      assert.equal(v.response.status, 200);
      assert.equal(v.response.setCookie.length, 1);
      assert.ok((await s.upstream()).some((q) => q.method === 'GET' && q.path === '/api/v1/user/jwt'),
        "sentc's check of the JWT");
    } finally {
      await s.sim('DELETE', 'keys', { kid: next.kid });
    }
  });

  it('refuses a JWT whose key is not configured when sentc may not be asked (401, 20015), sets nothing, and says so in the log', async () => {
    await s.restart('verify-login', { SENTC_BACKEND_JWT_KEY_CHECKS: '0' });
    const u = await sdkRegister('newkey-off');
    const next = genKeyEnv();
    await s.sim('POST', 'keys', { kid: next.kid, sign_key: next.signKeyB64, current: true });
    try {
      await assert.rejects(sdk.login(s.base, pub, u.name, PASSWORD), (e) => sdkError(e).status === 'server_20015');
      const v = verifyAnswer();
      assert.equal(v.response.status, 401);
      assert.deepEqual(v.response.setCookie, []);
      await sentcVerify();
      assert.ok(s.logRecords('verify-login').some((x) => x.level === 'error' && /SENTC_JWT_VERIFY_KEY/.test(x.msg)));
    } finally {
      await s.sim('DELETE', 'keys', { kid: next.kid });
      await s.restart('verify-login');
    }
  });

  it('never shows a refresh token of these logins in an answer or a log line', () => {
    assert.ok(tokens.length >= 5, `${tokens.length} logins`);
    const logs = [s.log(), fs.readFileSync(path.join(s.dir, 'nginx-error.log'), 'utf8')];
    for (const t of tokens) {
      for (const a of answers) assert.ok(!a.includes(t), 'an answer holds a refresh token');
      for (const l of logs) assert.ok(!l.includes(t), 'a log holds a refresh token');
    }
  });
});

'use strict';
/*
 * sentc_wasm's web build in headless Chromium, on a page served by the
 * backend's nginx, the backend as base_url: register through the backend
 * with user_data, a duplicate name, a pass-through call; the SDK's own
 * login() and mfa_login(), after which the page holds no refresh token,
 * the browser's jar holds it in the backend's HttpOnly cookie, and the
 * cookie mode's refresh gives a new JWT.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { start, claims } = require('../integration/harness');
const { totp } = require('../lib/common');
const { launch, open } = require('./browser');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const PASSWORD = 'correct horse battery staple';
const COOKIE = 'sentc_refresh';

let seq = 0;
const uniq = (p) => `${p}-${process.pid}-${++seq}`;

describe("sentc_wasm's web build in Chromium, on the backend's origin", () => {
  let stack;
  let browser;
  let page;
  const wasm = [];
  const seen = []; // the text of every answer the page got from /api/

  before(async () => {
    stack = await start({ SITE_CONF: path.join(__dirname, 'site.conf') });
    browser = await launch();
    browser.context.on('response', async (res) => {
      if (res.url().endsWith('.wasm')) wasm.push({ url: res.url(), status: res.status(), type: res.headers()['content-type'] });
      if (new URL(res.url()).pathname.startsWith('/api/')) {
        try {
          seen.push(`${JSON.stringify(await res.allHeaders())} ${await res.text()}`);
        } catch {
          // a page that went away
        }
      }
    });
    page = await open(browser, `${stack.base}/e2e/index.html`);
    await page.evaluate((t) => window.app.init(t), stack.config.SENTC_PUBLIC_TOKEN);
  });

  after(async () => {
    if (browser) await browser.close();
    if (stack) stack.stop();
  });

  beforeEach(() => stack.clearLog());

  /* Calls window.app[fn](...args) in the page: {value} or {error} (what it threw, as text). */
  const call = (fn, ...args) => page.evaluate(async ([f, a]) => {
    try {
      return { value: await window.app[f](...a) };
    } catch (e) {
      return { error: typeof e === 'string' ? e : String(e && e.message) };
    }
  }, [fn, args]);

  /* The backend's cookie in the browser's jar, as it goes to /backend/refresh, or undefined. */
  const jarCookie = async () => (await browser.context.cookies(`${stack.base}/backend/refresh`)).find((c) => c.name === COOKIE);

  /* sentc's verify_login answers since clearLog(), as the simulator sent them. */
  const sentcLogins = async () => (await stack.upstream()).filter((x) => x.path === '/api/v1/verify_login');

  it("loads sentc_wasm.js and its wasm from the site's /sentc_wasm/, with the cookie mode's options", async () => {
    const r = await call('init', stack.config.SENTC_PUBLIC_TOKEN);
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.value.base_url, stack.base);
    assert.equal(r.value.app_token, stack.config.SENTC_PUBLIC_TOKEN);
    assert.deepEqual(r.value.refresh, { endpoint: 0, endpoint_url: '/backend/refresh' });
    assert.equal(wasm.length, 1, JSON.stringify(wasm));
    assert.equal(wasm[0].url, `${stack.base}/sentc_wasm/sentc_wasm_bg.wasm`);
    assert.equal(wasm[0].status, 200);
    assert.equal(wasm[0].type, 'application/wasm');
  });

  it('registers through the backend with prepare_register, user_data and done_register', async () => {
    const name = uniq('web');
    const userData = { display_name: 'Web User', lang: 'en' };
    const r = await call('register', name, PASSWORD, userData);
    assert.equal(r.error, undefined, r.error);
    assert.match(r.value, UUID);

    const up = (await stack.upstream()).slice(-1);
    assert.deepEqual((await stack.upstream()).map((x) => x.path), ['/api/v1/exists', '/api/v1/register']);
    assert.equal(up[0].path, '/api/v1/register');
    assert.equal(up[0].token, 'secret');
    assert.equal(up[0].body.device.device_identifier, name);
    assert.equal(typeof up[0].body.group.encrypted_hmac_key, 'string', "today's register input");
    assert.equal(up[0].body.user_data, undefined, 'user_data stays with the backend');
    const { users } = await stack.sim('GET', 'state');
    assert.ok(users.some((u) => u.user_id === r.value && u.device_identifier === name));
    assert.deepEqual(stack.rows(`SELECT user_data FROM users WHERE user_id = '${r.value}'`),
      [{ user_data: JSON.stringify(userData) }]);

    const { jwt } = await stack.session(r.value);
    const me = await call('me', jwt);
    assert.deepEqual(me.value, { status: 200, body: { status: true, result: userData } });
  });

  it('a duplicate name makes done_register throw server_101', async () => {
    const name = uniq('web-dup');
    const first = await call('register', name, PASSWORD, { n: 1 });
    assert.match(first.value, UUID);
    const again = await call('register', name, PASSWORD, { n: 2 });
    assert.equal(again.value, undefined);
    assert.equal(JSON.parse(again.error).status, 'server_101');
    assert.deepEqual(stack.rows(`SELECT user_id, user_data FROM users WHERE identifier = '${name}'`),
      [{ user_id: first.value, user_data: '{"n":1}' }]);
  });

  it('check_user_identifier_available passes through the backend to sentc with the public token', async () => {
    const name = uniq('web-taken');
    await call('register', name, PASSWORD, {});
    await stack.clearLog();
    assert.deepEqual(await call('available', name), { value: false });
    assert.deepEqual(await call('available', uniq('web-free')), { value: true });
    const up = await stack.upstream();
    assert.deepEqual(up.map((x) => [x.method, x.path, x.token]),
      [['POST', '/api/v1/exists', 'public'], ['POST', '/api/v1/exists', 'public']]);
  });

  /*
   * After a login: the page holds "" for the refresh token; the jar holds
   * sentc's token sealed in the HttpOnly cookie, out of document.cookie;
   * the cookie mode's refresh gives a new JWT from that very token.
   */
  async function loggedIn(user, userId) {
    assert.equal(user.error, undefined, user.error);
    assert.equal(user.value.refresh_token, '', 'the page holds no refresh token');
    assert.equal(user.value.user_id, userId);
    assert.equal(user.value.user_keys, 1);
    const c = claims(user.value.jwt);
    assert.equal(c.aud, userId);
    assert.equal(c.fresh, true);
    const [up] = await sentcLogins();
    const rt = JSON.parse(up.response).result.refresh_token;
    assert.match(rt, /^[A-Za-z0-9_-]{67}$/);

    const jar = await jarCookie();
    assert.ok(jar, 'the browser keeps the cookie');
    assert.equal(jar.httpOnly, true);
    assert.equal(jar.secure, true);
    assert.equal(jar.sameSite, 'Strict');
    assert.equal(jar.path, '/backend');
    assert.ok(!jar.value.includes(rt));
    const visible = await call('cookies');
    assert.ok(!visible.value.includes(COOKIE), visible.value);

    await stack.clearLog();
    const r = await call('refresh', user.value.jwt);
    assert.equal(r.error, undefined, r.error);
    assert.match(r.value, JWT_SHAPE);
    const d = await call('decode', r.value);
    assert.equal(d.error, undefined, d.error);
    assert.equal(d.value.aud, userId);
    assert.equal(d.value.sub, c.sub);
    assert.equal(d.value.fresh, false);
    const refreshed = await stack.upstream();
    assert.deepEqual(refreshed.map((x) => [x.method, x.path]), [['PUT', '/api/v1/refresh']]);
    assert.equal(refreshed[0].body.refresh_token, rt, 'the cookie held the login\'s refresh token');
    return rt;
  }

  const tokens = [];

  it("login(): the page gets no refresh token, the browser's jar holds it in the HttpOnly cookie, the cookie refresh works", async () => {
    const name = uniq('login');
    const userId = (await call('register', name, PASSWORD, { plan: 'pro' })).value;
    await browser.context.clearCookies();
    await stack.clearLog();
    const user = await call('login', name, PASSWORD);
    tokens.push(await loggedIn(user, userId));
    const me = await call('me', user.value.jwt);
    assert.deepEqual(me.value.body, { status: true, result: { plan: 'pro' } });
  });

  it('mfa_login() the same, with a TOTP code and with a recovery key', async () => {
    const name = uniq('mfa');
    const userId = (await call('register', name, PASSWORD, {})).value;
    const otp = await stack.sim('POST', 'otp', { device_identifier: name });
    for (const [token, recovery] of [[null, false], [otp.recover[2], true]]) {
      await browser.context.clearCookies();
      const pre = await call('login', name, PASSWORD);
      assert.deepEqual(pre, { value: { mfa: true } });
      assert.equal(await jarCookie(), undefined, 'no cookie before the last step');
      await stack.clearLog();
      const user = await call('mfaLogin', token === null ? totp(otp.secret) : token, recovery);
      assert.deepEqual((await stack.upstream()).map((x) => x.path),
        [recovery ? '/api/v1/validate_recovery_otp' : '/api/v1/validate_mfa', '/api/v1/verify_login']);
      tokens.push(await loggedIn(user, userId));
    }
  });

  it('showed the page no refresh token of these logins, and had no uncaught error', () => {
    assert.equal(tokens.length, 3);
    for (const t of tokens) assert.ok(!seen.some((x) => x.includes(t)), 'an answer to the page holds a refresh token');
    assert.deepEqual(browser.errors, []);
  });
});

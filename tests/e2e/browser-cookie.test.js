'use strict';
/*
 * The SDK's cookie refresh mode in Chromium, against the backend's cookie
 * routes: /backend/session after a login made elsewhere, the cookie mode's
 * refresh (as Sentc.refreshJwt makes it) with a JWT past its exp,
 * /backend/logout, and a page on an origin the backend does not allow.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { start, claims } = require('../integration/harness');
const { launch, open } = require('./browser');

describe('the cookie refresh mode in Chromium', () => {
  let stack;
  let browser;
  let page;
  let foreign;
  let user;
  const setCookies = [];

  before(async () => {
    stack = await start({ SITE_CONF: path.join(__dirname, 'site.conf') });
    browser = await launch();
    browser.context.on('response', async (res) => {
      const v = await res.headerValue('set-cookie');
      if (v !== null) setCookies.push({ url: res.url(), value: v });
    });
    page = await open(browser, `${stack.base}/e2e/index.html`);
    const token = stack.config.SENTC_PUBLIC_TOKEN;
    await page.evaluate((t) => window.app.init(t), token);
    user = await stack.user('cookie', { plan: 'pro' });
  });

  after(async () => {
    if (browser) await browser.close();
    if (stack) stack.stop();
  });

  const call = (p, fn, ...args) => p.evaluate(async ([f, a]) => {
    try {
      return { value: await window.app[f](...a) };
    } catch (e) {
      return { error: typeof e === 'string' ? e : String(e && e.message) };
    }
  }, [fn, args]);

  const cookieName = () => stack.config.SENTC_BACKEND_COOKIE_NAME || 'sentc_refresh';

  let session;

  it('POST /backend/session sets an HttpOnly cookie that document.cookie does not show', async () => {
    session = await stack.session(user.id);
    const r = await call(page, 'session', session.jwt, session.refresh_token);
    assert.equal(r.value.status, 200, JSON.stringify(r));
    assert.deepEqual(r.value.body.result.user_data, { plan: 'pro' });
    const jar = (await browser.context.cookies()).filter((x) => x.domain === "127.0.0.1");
    const c = jar.find((x) => x.name === cookieName());
    assert.ok(c, JSON.stringify(jar));
    assert.equal(c.httpOnly, true);
    assert.equal(c.secure, true);
    assert.equal(c.sameSite, 'Strict');
    assert.ok(!c.value.includes(session.refresh_token));
    const visible = await call(page, 'cookies');
    assert.ok(!visible.value.includes(cookieName()), visible.value);
  });

  it("the cookie mode's refresh with a JWT past its exp gets a new JWT from the cookie", async () => {
    const old = await stack.session(user.id, { exp_in: -120 });
    assert.ok(claims(old.jwt).exp < Date.now() / 1000);
    await stack.clearLog();
    const r = await call(page, 'refresh', old.jwt);
    assert.equal(r.error, undefined, r.error);
    // The page decodes it with the SDK's own decode_jwt.
    const d = await call(page, 'decode', r.value);
    assert.equal(d.error, undefined, d.error);
    const c = d.value;
    assert.equal(c.aud, user.id);
    assert.equal(c.sub, claims(old.jwt).sub);
    assert.equal(c.fresh, false);
    assert.ok(c.exp > Date.now() / 1000);
    assert.ok(c.exp > claims(old.jwt).exp, 'a new JWT, not the old one');
    const up = await stack.upstream();
    assert.deepEqual(up.map((x) => [x.method, x.path]), [['PUT', '/api/v1/refresh']]);
    assert.equal(up[0].body.refresh_token, session.refresh_token);
    // The new JWT works for the backend's routes.
    const me = await call(page, 'me', r.value);
    assert.deepEqual(me.value.body, { status: true, result: { plan: 'pro' } });
  });

  it('logout clears the cookie, and a refresh after it fails', async () => {
    const r = await call(page, 'logout');
    assert.equal(r.value.status, 200);
    const jar = (await browser.context.cookies()).filter((x) => x.domain === "127.0.0.1");
    assert.equal(jar.find((x) => x.name === cookieName()), undefined);
    await stack.clearLog();
    const again = await call(page, 'refresh', session.jwt);
    // The SDK takes the answer's text: the 401 envelope, which its decode_jwt cannot read.
    assert.equal(JSON.parse(again.value).err_code, 20031);
    const d = await call(page, 'decode', again.value);
    assert.equal(d.value, undefined);
    assert.ok(d.error, 'decode_jwt throws');
    assert.deepEqual(await stack.upstream(), []);
  });

  it('the same refresh from a page on an origin not allowed fails in the browser', async () => {
    const s2 = await stack.session(user.id);
    assert.equal((await call(page, 'session', s2.jwt, s2.refresh_token)).value.status, 200);
    // Another app's origin, not in SENTC_BACKEND_ALLOWED_ORIGINS: the browser
    // gets the same page and SDK files from it.
    const other = 'http://other-app.test';
    const files = { '/sentc_wasm/': path.join(__dirname, 'node_modules/sentc_wasm/'), '/e2e/': path.join(__dirname, 'page/') };
    await browser.context.route(`${other}/**`, (route) => {
      const p = new URL(route.request().url()).pathname;
      const prefix = Object.keys(files).find((k) => p.startsWith(k));
      if (!prefix) return route.fulfill({ status: 404, body: '' });
      return route.fulfill({ path: files[prefix] + p.slice(prefix.length) });
    });
    foreign = await open(browser, `${other}/e2e/index.html`);
    await foreign.evaluate(([t, b]) => window.app.init(t, b), [stack.config.SENTC_PUBLIC_TOKEN, stack.base]);
    await stack.clearLog();
    const r = await call(foreign, 'refresh', s2.jwt);
    assert.equal(r.value, undefined, JSON.stringify(r));
    assert.match(r.error, /Failed to fetch/);
    assert.deepEqual(await stack.upstream(), []);
  });
});

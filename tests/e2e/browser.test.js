'use strict';
/*
 * The SDK's browser bundle in headless Chromium, on a page served by the
 * backend's nginx: Sentc.init in the cookie refresh mode, register through
 * the backend with user_data, a pass-through call, a duplicate name.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { start } = require('../integration/harness');
const { launch, open } = require('./browser');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PASSWORD = 'correct horse battery staple';

let seq = 0;
const uniq = (p) => `${p}-${process.pid}-${++seq}`;

describe('the browser bundle in Chromium, on the backend\'s origin', () => {
  let stack;
  let browser;
  let page;
  const wasm = [];

  before(async () => {
    stack = await start({ SITE_CONF: path.join(__dirname, 'site.conf') });
    browser = await launch();
    browser.context.on('response', (res) => {
      if (res.url().endsWith('.wasm')) wasm.push({ url: res.url(), status: res.status(), type: res.headers()['content-type'] });
    });
    page = await open(browser, `${stack.base}/e2e/index.html`);
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

  it('loads sentc.min.js and its wasm from the same folder, and inits in the cookie mode', async () => {
    const r = await call('init', stack.config.SENTC_PUBLIC_TOKEN);
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.value.base_url, stack.base);
    assert.equal(r.value.app_token, stack.config.SENTC_PUBLIC_TOKEN);
    assert.deepEqual(r.value.refresh, { endpoint: 0, endpoint_url: '/backend/refresh' });
    assert.equal(wasm.length, 1, JSON.stringify(wasm));
    assert.ok(wasm[0].url.startsWith(`${stack.base}/e2e/sentc/`), wasm[0].url);
    assert.equal(wasm[0].status, 200);
    assert.equal(wasm[0].type, 'application/wasm');
  });

  it('registers through the backend with prepareRegister, user_data and doneRegister', async () => {
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
    assert.equal(up[0].body.user_data, undefined, 'user_data stays with the backend');
    const { users } = await stack.sim('GET', 'state');
    assert.ok(users.some((u) => u.user_id === r.value && u.device_identifier === name));
    assert.deepEqual(stack.rows(`SELECT user_data FROM users WHERE user_id = '${r.value}'`),
      [{ user_data: JSON.stringify(userData) }]);

    const { jwt } = await stack.session(r.value);
    const me = await call('me', jwt);
    assert.deepEqual(me.value, { status: 200, body: { status: true, result: userData } });
  });

  it('a duplicate name makes doneRegister throw server_101', async () => {
    const name = uniq('web-dup');
    const first = await call('register', name, PASSWORD, { n: 1 });
    assert.match(first.value, UUID);
    const again = await call('register', name, PASSWORD, { n: 2 });
    assert.equal(again.value, undefined);
    assert.equal(JSON.parse(again.error).status, 'server_101');
    assert.deepEqual(stack.rows(`SELECT user_id, user_data FROM users WHERE identifier = '${name}'`),
      [{ user_id: first.value, user_data: '{"n":1}' }]);
  });

  it('checkUserIdentifierAvailable passes through the backend to sentc with the public token', async () => {
    const name = uniq('web-taken');
    await call('register', name, PASSWORD, {});
    await stack.clearLog();
    assert.deepEqual(await call('available', name), { value: false });
    assert.deepEqual(await call('available', uniq('web-free')), { value: true });
    const up = await stack.upstream();
    assert.deepEqual(up.map((x) => [x.method, x.path, x.token]),
      [['POST', '/api/v1/exists', 'public'], ['POST', '/api/v1/exists', 'public']]);
  });

  it('had no uncaught error in the page', () => {
    assert.deepEqual(browser.errors, []);
  });
});

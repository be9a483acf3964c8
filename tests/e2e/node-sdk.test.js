'use strict';
/*
 * The official SDK's core (sentc_wasm, in Node) against the backend, through
 * nginx and through Apache: register with user_data, the SDK's own register
 * with the backend as base_url, a route the backend does not serve, and a
 * duplicate name.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');

const { start, claims } = require('../integration/harness');
const { totp } = require('../lib/common');
const { startApache } = require('./apache');
const { sdk, sent, forget, sdkError } = require('./sdk');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PASSWORD = 'correct horse battery staple';

let seq = 0;
const uniq = (p) => `${p}-${process.pid}-${++seq}`;

let stack;
let apache;

before(async () => {
  stack = await start();
  apache = await startApache(stack);
});

after(async () => {
  if (apache) await apache.stop();
  if (stack) stack.stop();
});

/* Posts the SDK's register input, with user_data added, as an app would. */
async function postRegister(base, name, userData) {
  const input = JSON.parse(sdk.prepare_register(name, PASSWORD));
  input.user_data = userData;
  const res = await fetch(`${base}/api/v1/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  return { status: res.status, text: await res.text(), input };
}

async function simUsers() {
  return (await stack.sim('GET', 'state')).users;
}

/* As Sentc.checkUserIdentifierAvailable: the SDK's body to /api/v1/exists, the SDK reads the answer. */
async function available(base, name) {
  const res = await fetch(`${base}/api/v1/exists`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-sentc-app-token': stack.config.SENTC_PUBLIC_TOKEN },
    body: sdk.prepare_check_user_identifier_available(name),
  });
  return sdk.done_check_user_identifier_available(await res.text());
}

/*
 * What the backend answered the SDK's verify_login (since forget()): its
 * Set-Cookie must be the refresh cookie, HttpOnly; returns "name=value",
 * as a browser's jar would send it back to /backend/refresh.
 */
function loginCookie(base) {
  const v = sent().filter((r) => r.url === `${base}/api/v1/verify_login`);
  assert.equal(v.length, 1);
  assert.equal(v[0].response.status, 200);
  assert.equal(v[0].response.setCookie.length, 1);
  const [pair, ...attrs] = v[0].response.setCookie[0].split(';').map((x) => x.trim());
  assert.ok(pair.startsWith('sentc_refresh='), pair);
  assert.ok(attrs.includes('HttpOnly'), v[0].response.setCookie[0]);
  assert.ok(attrs.includes('Secure'));
  assert.ok(attrs.includes('SameSite=Strict'));
  assert.ok(attrs.includes('Path=/backend'));
  return { pair, text: v[0].response.text };
}

/* The refresh the JS SDK's cookie mode makes (Sentc.ts): GET, the old JWT, the cookie; the text is the JWT. */
async function cookieRefresh(base, jwt, cookie) {
  const res = await fetch(`${base}/backend/refresh`, { method: 'GET', headers: { authorization: `Bearer ${jwt}`, cookie } });
  return { status: res.status, text: await res.text() };
}

for (const front of ['nginx', 'apache']) {
  describe(`sentc_wasm in Node, through ${front}`, () => {
    let base;
    before(() => { base = front === 'nginx' ? stack.base : apache.base; });
    beforeEach(async () => {
      await stack.clearLog();
      forget();
    });

    it('prepare_register, POST /api/v1/register with user_data, done_register returns the id; /backend/me returns the data', async () => {
      const name = uniq('alice');
      const userData = { display_name: 'Alice', plan: 'pro', tags: ['a', 'b'] };
      const r = await postRegister(base, name, userData);
      assert.equal(r.status, 200, r.text);
      const userId = sdk.done_register(r.text);
      assert.match(userId, UUID);

      const user = (await simUsers()).find((u) => u.user_id === userId);
      assert.ok(user, 'sentc knows the new user');
      assert.equal(user.device_identifier, name);
      // The backend asks whether sentc has the name, then registers.
      const up = (await stack.upstream()).slice(-1);
      assert.deepEqual((await stack.upstream()).map((x) => x.path), ['/api/v1/exists', '/api/v1/register']);
      assert.equal(up[0].token, 'secret');
      delete r.input.user_data;
      assert.deepEqual(up[0].body, r.input, 'sentc got the SDK input without user_data');

      const { jwt } = await stack.session(userId);
      const me = await fetch(`${base}/backend/me`, { headers: { authorization: `Bearer ${jwt}` } });
      assert.equal(me.status, 200);
      assert.deepEqual(await me.json(), { status: true, result: userData });
    });

    it("the SDK's own register() with base_url = the backend: public token sent, secret token upstream", async () => {
      const name = uniq('bob');
      const userId = await sdk.register(base, stack.config.SENTC_PUBLIC_TOKEN, name, PASSWORD);
      assert.match(userId, UUID);

      const out = sent();
      assert.equal(out.length, 1);
      assert.equal(out[0].url, `${base}/api/v1/register`);
      assert.equal(out[0].method, 'POST');
      assert.equal(out[0].headers['x-sentc-app-token'], stack.config.SENTC_PUBLIC_TOKEN, 'the SDK sent the public token');

      const up = (await stack.upstream()).slice(-1);
      assert.deepEqual((await stack.upstream()).map((x) => x.path), ['/api/v1/exists', '/api/v1/register']);
      assert.equal(up[0].path, '/api/v1/register');
      assert.equal(up[0].token, 'secret', 'the simulator saw the secret token');
      assert.deepEqual(up[0].body, JSON.parse(out[0].body), 'the body reached sentc unchanged');

      const user = (await simUsers()).find((u) => u.user_id === userId);
      assert.equal(user.device_identifier, name);
      const rows = stack.rows(`SELECT identifier, user_data FROM users WHERE user_id = '${userId}'`);
      assert.deepEqual(rows, [{ identifier: name, user_data: '{}' }]);
    });

    it('the exists check, a route the backend does not serve, passes through to sentc', async () => {
      const name = uniq('carol');
      await sdk.register(base, stack.config.SENTC_PUBLIC_TOKEN, name, PASSWORD);
      await stack.clearLog();
      forget();

      assert.equal(await available(base, name), false);
      assert.equal(await available(base, uniq('free')), true);

      const out = sent();
      assert.deepEqual(out.map((x) => x.url), [`${base}/api/v1/exists`, `${base}/api/v1/exists`]);
      const up = await stack.upstream();
      assert.equal(up.length, 2);
      for (let i = 0; i < 2; i++) {
        assert.equal(up[i].method, 'POST');
        assert.equal(up[i].path, '/api/v1/exists');
        assert.equal(up[i].token, 'public', 'passed through with the client\'s own token');
        assert.deepEqual(up[i].body, JSON.parse(out[i].body));
      }
    });

    it('a duplicate name makes done_register throw server_101, and stores nothing', async () => {
      const name = uniq('dave');
      const first = await postRegister(base, name, { n: 1 });
      const userId = sdk.done_register(first.text);

      const again = await postRegister(base, name, { n: 2 });
      assert.equal(again.status, 400);
      assert.throws(() => sdk.done_register(again.text), (e) => {
        const err = sdkError(e);
        assert.equal(err.status, 'server_101');
        return true;
      });
      await assert.rejects(sdk.register(base, stack.config.SENTC_PUBLIC_TOKEN, name, PASSWORD), (e) => {
        assert.equal(sdkError(e).status, 'server_101');
        return true;
      });

      const rows = stack.rows(`SELECT user_id, user_data FROM users WHERE identifier = '${name}'`);
      assert.deepEqual(rows, [{ user_id: userId, user_data: '{"n":1}' }], 'the first user\'s row alone, unchanged');
    });

    it("the SDK's own login(): no refresh token in the SDK, the backend's HttpOnly cookie holds it, and refreshes", async () => {
      const name = uniq('erin');
      const userId = await sdk.register(base, stack.config.SENTC_PUBLIC_TOKEN, name, PASSWORD);
      await stack.clearLog();
      forget();
      const out = await sdk.login(base, stack.config.SENTC_PUBLIC_TOKEN, name, PASSWORD);
      assert.equal(out.get_refresh_token(), '');
      assert.equal(out.get_id(), userId);
      assert.deepEqual(sent().map((r) => r.url),
        ['prepare_login', 'done_login', 'verify_login'].map((p) => `${base}/api/v1/${p}`));
      const cookie = loginCookie(base);
      const up = (await stack.upstream()).filter((x) => x.path === '/api/v1/verify_login');
      const rt = JSON.parse(up[0].response).result.refresh_token;
      assert.ok(!cookie.text.includes(rt) && !cookie.pair.includes(rt));

      await stack.clearLog();
      const r = await cookieRefresh(base, out.get_jwt(), cookie.pair);
      assert.equal(r.status, 200, r.text);
      const c = sdk.decode_jwt(r.text);
      assert.equal(c.get_aud(), userId);
      assert.equal(c.get_sub(), claims(out.get_jwt()).sub);
      assert.equal(c.get_fresh(), false);
      const [refreshed] = await stack.upstream();
      assert.equal(refreshed.path, '/api/v1/refresh');
      assert.equal(refreshed.body.refresh_token, rt);
    });

    it('mfa_login() the same', async () => {
      const name = uniq('fay');
      const userId = await sdk.register(base, stack.config.SENTC_PUBLIC_TOKEN, name, PASSWORD);
      const otp = await stack.sim('POST', 'otp', { device_identifier: name });
      const pre = await sdk.login(base, stack.config.SENTC_PUBLIC_TOKEN, name, PASSWORD);
      assert.equal(pre.get_jwt(), undefined);
      forget();
      const user = await sdk.mfa_login(base, stack.config.SENTC_PUBLIC_TOKEN, pre.get_mfa_master_key(),
        pre.get_mfa_auth_key(), name, totp(otp.secret), false);
      assert.equal(user.get_refresh_token(), '');
      assert.deepEqual(sent().map((r) => r.url), [`${base}/api/v1/validate_mfa`, `${base}/api/v1/verify_login`]);
      const cookie = loginCookie(base);
      const r = await cookieRefresh(base, user.get_jwt(), cookie.pair);
      assert.equal(r.status, 200, r.text);
      assert.equal(sdk.decode_jwt(r.text).get_aud(), userId);
    });
  });
}

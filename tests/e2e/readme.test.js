'use strict';
/*
 * The README's browser quick start tells the truth: its code runs as written
 * in headless Chromium, on a page of the backend's origin that serves
 * sentc_wasm's web build at /sentc_wasm/ (site.conf), against the stack
 * (the app's public token put in for YOUR_PUBLIC_TOKEN), and does what its
 * comments say: the user registered with its user_data, logged in with
 * no refresh token in the page, the cookie holding it, the JWT refreshed
 * from the cookie, and the user's own data read with it.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { start, claims, TOP, WAIT_MS } = require('../integration/harness');
const { launch } = require('./browser');

const readme = fs.readFileSync(path.join(TOP, 'README.md'), 'utf8');

/* The fenced js blocks of the README's section "## title". */
function jsBlocks(title) {
  const at = readme.indexOf(`\n## ${title}\n`);
  assert.notEqual(at, -1, `README has a section "${title}"`);
  const end = readme.indexOf('\n## ', at + 1);
  const text = readme.slice(at, end === -1 ? undefined : end);
  return [...text.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe("README: Browser quick start, run in Chromium", () => {
  let stack;
  let browser;

  before(async () => {
    stack = await start({ SITE_CONF: path.join(__dirname, 'site.conf') });
    browser = await launch();
  });

  after(async () => {
    if (browser) await browser.close();
    if (stack) stack.stop();
  });

  it('runs as written and does what its comments say', async () => {
    const blocks = jsBlocks('Browser quick start');
    assert.equal(blocks.length, 1, 'one code block');
    const code = blocks[0];
    assert.ok(code.includes('YOUR_PUBLIC_TOKEN'));
    const page = await browser.context.newPage();
    const setCookies = [];
    page.on('response', async (res) => {
      const v = await res.headerValue('set-cookie');
      if (v !== null) setCookies.push({ path: new URL(res.url()).pathname, value: v });
    });
    await page.goto(`${stack.base}/e2e/readme.html`);

    // The block as a module of the page; what it leaves in its variables is handed back.
    await page.addScriptTag({
      type: 'module',
      content: `${code.replace('YOUR_PUBLIC_TOKEN', stack.config.SENTC_PUBLIC_TOKEN)}
window.readme = { user_id, jwt, me, refresh_token: user.get_refresh_token(), first_jwt: user.get_jwt() };`,
    });
    await page.waitForFunction(() => window.readme !== undefined || false, null, { timeout: WAIT_MS })
      .catch((e) => { throw new Error(`${e.message}: ${browser.errors.join('; ')}`); });
    const r = await page.evaluate(() => window.readme);
    assert.deepEqual(browser.errors, []);

    // Registered with its user_data, through the backend.
    const { users } = await stack.sim('GET', 'state');
    const alice = users.find((u) => u.device_identifier === 'alice');
    assert.ok(alice, 'sentc knows alice');
    assert.equal(r.user_id, alice.user_id);
    // Logged in: "" in the page, the cookie set by verify_login, HttpOnly.
    assert.equal(r.refresh_token, '');
    assert.equal(claims(r.first_jwt).fresh, true);
    assert.deepEqual(setCookies.map((x) => x.path), ['/api/v1/verify_login']);
    const [jar] = (await browser.context.cookies(`${stack.base}/backend/refresh`)).filter((c) => c.name === 'sentc_refresh');
    assert.equal(jar.httpOnly, true);
    // Refreshed from the cookie: a new JWT of alice's, not fresh.
    assert.notEqual(r.jwt, r.first_jwt);
    assert.equal(claims(r.jwt).aud, alice.user_id);
    assert.equal(claims(r.jwt).fresh, false);
    // And the user's own data, as the comment shows it.
    const shown = code.split('\n').filter((l) => l.startsWith('// {')).map((l) => JSON.parse(l.slice(3)));
    assert.deepEqual(shown, [r.me]);
    assert.deepEqual(r.me, { status: true, result: { display_name: 'Alice' } });

    // The calls the block made, at sentc: register with the secret token, the login, the refresh.
    const up = (await stack.upstream()).map((x) => [x.method, x.path, x.token]);
    assert.deepEqual(up, [
      ['POST', '/api/v1/exists', 'public'],
      ['POST', '/api/v1/register', 'secret'],
      ['POST', '/api/v1/prepare_login', 'public'],
      ['POST', '/api/v1/done_login', 'public'],
      ['POST', '/api/v1/verify_login', 'public'],
      ['PUT', '/api/v1/refresh', 'public'],
    ]);
  });
});

'use strict';
/* POST /api/v1/user/prepare_register_device: a relay with a configured token kind. */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('./harness');
const { fixture } = require('./fixtures/spawn');

const path = '/api/v1/user/prepare_register_device';
let seq = 0;
const device = () => ({ device_identifier: `dev-${process.pid}-${++seq}`, master_key: 'k' });

describe('register-device, public token by default', () => {
  let s;
  before(async () => { s = await start(); });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  it('relays the body unchanged with the public token', async () => {
    const body = device();
    const r = await s.api('POST', path, { body, headers: { 'x-sentc-app-token': 'whatever-the-client-sent' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, true);
    assert.equal(r.json.result.device_identifier, body.device_identifier);
    const up = await s.upstream();
    assert.equal(up.length, 1);
    assert.equal(up[0].token, 'public');
    assert.deepEqual(up[0].body, body);
  });

  it('passes a sentc error through', async () => {
    const body = device();
    await s.api('POST', path, { body });
    const r = await s.api('POST', path, { body });
    assert.equal(r.status, 400);
    assert.equal(r.json.err_code, 101);
  });

  it('refuses a body that is not a JSON object before going upstream', async () => {
    for (const body of ['nope', '[]', '']) {
      const r = await s.api('POST', path, { body });
      assert.equal(r.status, 400, body);
      assert.equal(r.json.status, false);
    }
    assert.deepEqual(await s.upstream(), []);
  });

  it('answers 405 to GET', async () => {
    const r = await s.api('GET', path);
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'POST');
  });
});

describe('register-device with SENTC_BACKEND_REGISTER_DEVICE_TOKEN=secret', () => {
  let s;
  before(async () => { s = await start({ SENTC_BACKEND_REGISTER_DEVICE_TOKEN: 'secret' }); });
  after(() => s.stop());

  it('relays with the secret token', async () => {
    await s.sim('POST', 'endpoint', { endpoint: 'user_device_register', kind: 'secret' });
    const r = await s.api('POST', path, { body: device() });
    assert.equal(r.status, 200, r.text);
    const up = await s.upstream();
    assert.equal(up.at(-1).token, 'secret');
  });
});

/* tests/integration/fixtures/proxy.js: resolves { child, url, seen() } once it listens. */
async function proxy() {
  const p = await fixture('proxy.js');
  return { child: p.child, url: `http://127.0.0.1:${p.port}`, seen: p.lines };
}

describe('register-device through a proxy the environment names', () => {
  let s, p;
  before(async () => { p = await proxy(); s = await start({ http_proxy: p.url, no_proxy: '' }); });
  after(() => { s.stop(); p.child.kill(); });

  it('reaches sentc through its tunnel (http_proxy, read at start)', async () => {
    const r = await s.api('POST', path, { body: device() });
    assert.equal(r.status, 200, r.text);
    assert.equal((await s.upstream()).length, 1);
    const api = new URL(s.simBase);
    // (The start script's own health check may pass through it too.)
    assert.deepEqual(p.seen().filter((l) => l.startsWith('CONNECT ')), [`CONNECT ${api.hostname}:${api.port}`]);
  });
});

describe('register-device with a proxy and no_proxy naming the API host', () => {
  let s, p;
  before(async () => { p = await proxy(); s = await start({ http_proxy: p.url, no_proxy: '127.0.0.1' }); });
  after(() => { s.stop(); p.child.kill(); });

  it('goes straight to sentc', async () => {
    const r = await s.api('POST', path, { body: device() });
    assert.equal(r.status, 200, r.text);
    assert.equal((await s.upstream()).length, 1);
    assert.deepEqual(p.seen().filter((l) => l.startsWith('CONNECT ')), []);
  });
});

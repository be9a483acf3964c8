'use strict';
/*
 * The app's JWT keys as the dashboard gives them: its .env carries one
 * bare key and no key id, and a key made in the dashboard signs every
 * new JWT at once, before the backend's config names it.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { start, forge } = require('./harness');

const kidOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url')).kid;

describe('a bare key without SENTC_JWT_KEY_ID, as in the dashboard\'s .env', () => {
  let s; let u;
  before(async () => {
    // The simulator signs with the kid of the config file; the programs see no key id.
    s = await start({ SENTC_JWT_KEY_ID: '' });
    u = await s.user('bare');
  });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  it('verifies the app\'s tokens whatever their kid, with no call to sentc', async () => {
    assert.equal(kidOf(u.jwt), s.config.SENTC_JWT_KEY_ID);
    const r = await s.api('GET', '/backend/me', { headers: u.auth });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(await s.upstream(), []);
    const health = await s.api('GET', '/backend/health');
    assert.equal(health.json.result.jwt_keys, 1);
  });

  it('refuses a token another key signed: only the signature decides', async () => {
    const r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${forge(u.jwt)}` } });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.err_code, 20016);
  });
});

'use strict';
/* GET and PUT /backend/me: the user's own data, behind the JWT. */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { start, registerInput, forge } = require('./harness');

describe('/backend/me', () => {
  let s; let u;
  before(async () => {
    s = await start();
    u = await s.user('me', { theme: 'dark', n: 1 });
  });
  after(() => s.stop());

  it("GET returns the user_data stored at register", async () => {
    const r = await s.api('GET', '/backend/me', { headers: u.auth });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { status: true, result: { theme: 'dark', n: 1 } });
  });

  it('PUT replaces it, and GET then returns the new data', async () => {
    let r = await s.api('PUT', '/backend/me', { body: { theme: 'light', list: [1, 2] }, headers: u.auth });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.result, { theme: 'light', list: [1, 2] });
    r = await s.api('GET', '/backend/me', { headers: u.auth });
    assert.deepEqual(r.json.result, { theme: 'light', list: [1, 2] });
  });

  it('refuses a body that is not an object, or too large, and keeps the data', async () => {
    for (const [body, status] of [['[1]', 400], ['"x"', 400], ['{', 400], [JSON.stringify({ v: 'x'.repeat(17000) }), 413]]) {
      const r = await s.api('PUT', '/backend/me', { body, headers: u.auth });
      assert.equal(r.status, status, body.slice(0, 20));
      assert.equal(r.json.status, false);
    }
    const r = await s.api('GET', '/backend/me', { headers: u.auth });
    assert.deepEqual(r.json.result, { theme: 'light', list: [1, 2] });
  });

  it('answers 404 for a user with no row', async () => {
    const { user_id } = (await s.sim('POST', 'session', { device_identifier: u.name }));
    // A user registered at sentc directly, not through the backend:
    const other = await s.api('POST', '/api/v1/register', { body: registerInput(`direct-${process.pid}`) });
    s.sql(`DELETE FROM users WHERE user_id = '${other.json.result.user_id}'`);
    const { jwt } = await s.session(other.json.result.user_id);
    let r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${jwt}` } });
    assert.equal(r.status, 404);
    assert.equal(r.json.err_code, 20021);
    r = await s.api('PUT', '/backend/me', { body: { a: 1 }, headers: { authorization: `Bearer ${jwt}` } });
    assert.equal(r.status, 404);
    assert.equal(s.rows(`SELECT 1 FROM users WHERE user_id = '${other.json.result.user_id}'`).length, 0, 'PUT created no row');
    assert.ok(user_id);
  });

  it('refuses a missing, forged or expired JWT with 401', async () => {
    const expired = (await s.session(u.id, { exp_in: -60 })).jwt;
    for (const [headers, code] of [[{}, 20012], [{ authorization: `Bearer ${forge(u.jwt)}` }, 20016],
      [{ authorization: `Bearer ${expired}` }, 20017], [{ authorization: `Basic ${u.jwt}` }, 20012]]) {
      const r = await s.api('GET', '/backend/me', { headers });
      assert.equal(r.status, 401);
      assert.equal(r.json.err_code, code);
    }
  });

  it('answers 405 to other methods', async () => {
    const r = await s.api('POST', '/backend/me', { body: {}, headers: u.auth });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET, HEAD, PUT');
  });

  it('answers 503 when the database is unavailable', async () => {
    const undo = s.failWrites('users', 'UPDATE');
    try {
      const r = await s.api('PUT', '/backend/me', { body: { a: 2 }, headers: u.auth });
      assert.equal(r.status, 503);
      assert.equal(r.json.err_code, 20020);
    } finally {
      undo();
    }
  });
});

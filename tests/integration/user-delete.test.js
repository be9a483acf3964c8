'use strict';
/* DELETE /api/v1/user: the user deletes their own account with a fresh JWT. */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { start, forge } = require('./harness');

describe('DELETE /api/v1/user', () => {
  let s;
  before(async () => { s = await start(); });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  it('relays with the secret token and removes the own data', async () => {
    const u = await s.user('del', { keep: false });
    await s.clearLog();
    const r = await s.api('DELETE', '/api/v1/user', { headers: u.auth });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { status: true, result: 'Success' });
    const up = await s.upstream();
    assert.equal(up.length, 1);
    assert.equal(up[0].token, 'secret');
    assert.equal(up[0].auth, u.jwt);
    assert.equal(s.rows(`SELECT 1 FROM users WHERE user_id = '${u.id}'`).length, 0);
    const state = await s.sim('GET', 'state');
    assert.ok(!state.users.some((x) => x.user_id === u.id));
  });

  it('refuses a JWT that is not fresh, before going upstream', async () => {
    const u = await s.user('stale');
    const { jwt } = await s.session(u.id, { fresh: false });
    await s.clearLog();
    const r = await s.api('DELETE', '/api/v1/user', { headers: { authorization: `Bearer ${jwt}` } });
    // What sentc answers: 401, code 113, its message word for word.
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { status: false, err_msg: 'The jwt is not valid for this action', err_code: 113 });
    assert.deepEqual(await s.upstream(), []);
    assert.equal(s.rows(`SELECT 1 FROM users WHERE user_id = '${u.id}'`).length, 1);
  });

  it('keeps the own data when sentc fails', async () => {
    const u = await s.user('kept');
    // sentc's own envelope of a server error: it says it failed.
    await s.sim('POST', 'fail', { path: '/api/v1/user', method: 'DELETE', mode: '5xx', count: 1 });
    let r = await s.api('DELETE', '/api/v1/user', { headers: u.auth });
    assert.equal(r.status, 502);
    assert.equal(r.json.err_code, 20025);
    assert.equal(s.rows(`SELECT 1 FROM users WHERE user_id = '${u.id}'`).length, 1);
    // A garbled answer, and the finishing delete garbled too (sb_unsure.h).
    await s.sim('POST', 'fail', { path: '/api/v1/user', method: 'DELETE', mode: 'garbage', count: 1 });
    await s.sim('POST', 'fail', { path: `/api/v1/user/forced/delete/${u.id}`, mode: 'garbage', count: 1 });
    r = await s.api('DELETE', '/api/v1/user', { headers: u.auth });
    assert.equal(r.status, 502);
    assert.equal(r.json.err_code, 20010);
    assert.equal(s.rows(`SELECT 1 FROM users WHERE user_id = '${u.id}'`).length, 1);
    s.sql('DELETE FROM unsure');
    // and when sentc refuses: the user's token kind is blocked for this endpoint
    await s.sim('POST', 'endpoint', { endpoint: 'user_delete', kind: 'blocked' });
    r = await s.api('DELETE', '/api/v1/user', { headers: u.auth });
    await s.sim('POST', 'endpoint', { endpoint: 'user_delete', kind: 'secret' });
    assert.equal(r.status, 400);
    assert.equal(r.json.err_code, 203);
    assert.equal(s.rows(`SELECT 1 FROM users WHERE user_id = '${u.id}'`).length, 1);
  });

  it('a garbled answer: the delete is finished by id, and the own data goes', async () => {
    const u = await s.user('garbled');
    await s.sim('POST', 'fail', { path: '/api/v1/user', method: 'DELETE', mode: 'garbage', count: 1 });
    const r = await s.api('DELETE', '/api/v1/user', { headers: u.auth });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { status: true, result: 'Success' });
    assert.equal(s.rows(`SELECT 1 FROM users WHERE user_id = '${u.id}'`).length, 0);
    assert.ok(!(await s.sim('GET', 'state')).users.some((x) => x.user_id === u.id));
  });

  it('asks the store first: if it cannot answer, 503 and nothing is sent', async () => {
    const u = await s.user('nostore');
    await s.clearLog();
    s.sql('ALTER TABLE users RENAME TO users_away');
    let r;
    try {
      r = await s.api('DELETE', '/api/v1/user', { headers: u.auth });
    } finally {
      s.sql('ALTER TABLE users_away RENAME TO users');
    }
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.err_code, 20020);
    assert.deepEqual(await s.upstream(), []);
    assert.equal(s.rows(`SELECT 1 FROM users WHERE user_id = '${u.id}'`).length, 1);
  });

  it('says so when the own data cannot go once sentc deleted the user; repeating finishes', async () => {
    const u = await s.user('left', { left: 1 });
    const undo = s.failWrites('users', 'DELETE');
    let r;
    try {
      r = await s.api('DELETE', '/api/v1/user', { headers: u.auth });
    } finally {
      undo();
    }
    assert.equal(r.status, 500, r.text);
    assert.equal(r.json.err_code, 20037);
    assert.match(r.json.err_msg, /repeat DELETE \/api\/v1\/user/);
    assert.ok(!(await s.sim('GET', 'state')).users.some((x) => x.user_id === u.id), 'gone at sentc');
    assert.equal(s.rows(`SELECT 1 FROM users WHERE user_id = '${u.id}'`).length, 1, 'left over here');
    assert.match(s.log(), new RegExp(`INCONSISTENT: user ${u.id} is gone at sentc`));

    r = await s.api('DELETE', '/api/v1/user', { headers: u.auth });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.err_code, 100, "sentc's answer passes through");
    assert.equal(s.rows(`SELECT 1 FROM users WHERE user_id = '${u.id}'`).length, 0, 'and the left-over row is gone');
  });

  it('refuses bad JWTs with 401 and no upstream call', async () => {
    const u = await s.user('badjwt');
    await s.clearLog();
    for (const headers of [{}, { authorization: `Bearer ${forge(u.jwt)}` }, { authorization: 'Bearer x' }]) {
      const r = await s.api('DELETE', '/api/v1/user', { headers });
      assert.equal(r.status, 401);
    }
    assert.deepEqual(await s.upstream(), []);
  });

  it('leaves other methods on /api/v1/user to sentc', async () => {
    const r = await s.api('PUT', '/api/v1/user', { body: {}, headers: { 'x-sentc-app-token': s.config.SENTC_PUBLIC_TOKEN } });
    assert.equal(r.json.err_code, 404, 'the simulator answered');
    assert.equal((await s.upstream()).length, 1);
  });
});

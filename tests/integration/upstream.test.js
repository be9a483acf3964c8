'use strict';
/*
 * The upstream client on the wire: one kept connection per worker, a kept
 * connection sentc closed while idle, one that closes after sentc acted
 * (only a GET goes again), answers sent chunked, and what sentc is sent (the request line, Host, the tokens, the body's length).
 * One worker per program, so that every request finds the connection
 * the one before left.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { start, registerInput } = require('./harness');

const DEVICE = '/api/v1/user/prepare_register_device';
const device = (name) => ({ device_identifier: name, master_key: 'mk', public_key: 'pk' });

describe('the upstream client', () => {
  let s; let owner; let seq = 0;
  const relay = () => s.api('POST', DEVICE, { body: device(`up-${process.pid}-${++seq}`) });
  const stats = async () => (await s.sim('GET', 'stats'));

  before(async () => {
    s = await start({ SENTC_BACKEND_WORKERS: '1', SENTC_BACKEND_ACCESS_CACHE_TTL: '0' });
    owner = await s.user('wire');
  });
  after(() => s.stop());
  beforeEach(async () => { await s.sim('DELETE', 'fail'); await s.clearLog(); });

  it('keeps its connection: 20 relays, at most one new connection', async () => {
    await relay();
    const before0 = (await stats()).connections;
    for (let i = 0; i < 20; i++) assert.equal((await relay()).status, 200);
    // The control calls of this test come on connections of their own.
    const opened = (await stats()).connections - before0;
    assert.ok(opened <= 2, `${opened} connections for 20 relays and 2 control calls`);
    assert.equal((await s.upstream()).filter((r) => r.path === DEVICE).length, 21);
  });

  it('sends a kept connection sentc closed meanwhile once more, on a new one', async () => {
    assert.equal((await relay()).status, 200);
    await s.sim('POST', 'drop');
    await s.clearLog();
    const r = await relay();
    assert.equal(r.status, 200, r.text);
    // Sent once: the closed connection took nothing.
    assert.equal((await s.upstream()).length, 1);
    // And so is a group access check, which has no body.
    const gid = await s.group(owner);
    await s.sim('POST', 'drop');
    await s.clearLog();
    const g = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth });
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.result.group_id, gid);
    assert.equal((await s.upstream()).length, 1);
  });

  it('never sends twice what sentc may have done: a register whose kept connection closes after sentc acted is a lost answer, and its user is deleted', async () => {
    const name = `vanish-${process.pid}-${++seq}`;
    // POST /exists goes first, so the register itself goes on a kept connection.
    await s.sim('POST', 'fail', { path: '/api/v1/register', mode: 'vanish', count: 1 });
    const r = await s.api('POST', '/api/v1/register', { body: registerInput(name) });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.status, false);
    assert.equal(r.json.err_code, 20009, r.text);
    const sent = await s.upstream();
    assert.equal(sent.filter((q) => q.path === '/api/v1/register').length, 1, 'the register went once');
    // Settled as a lost answer: the user sentc made is gone, and so no user lacks its own row.
    assert.ok(sent.some((q) => q.method === 'PUT' && q.path === '/api/v1/user/forced/delete' &&
      q.body.user_identifier === name), 'deleted at sentc by its name');
    const { users } = await s.sim('GET', 'state');
    assert.equal(users.filter((u) => u.device_identifier === name).length, 0);
    assert.deepEqual(s.rows(`SELECT user_id FROM users WHERE identifier = '${name}'`), []);
  });

  it('never sends a group create twice: one group at sentc, not two', async () => {
    await s.group(owner);	// the program's kept connection
    const before0 = (await s.sim('GET', 'state')).groups.length;
    await s.clearLog();
    await s.sim('POST', 'fail', { path: '/api/v1/group', method: 'POST', mode: 'vanish', count: 1 });
    const r = await s.api('POST', '/api/v1/group', { body: { keys: 'opaque' }, headers: owner.auth });
    assert.equal(r.status, 502, r.text);
    assert.equal((await s.upstream()).filter((q) => q.path === '/api/v1/group').length, 1);
    assert.equal((await s.sim('GET', 'state')).groups.length, before0 + 1);
  });

  it('sends a GET once more when its kept connection closes with no answer', async () => {
    const gid = await s.group(owner);
    assert.equal((await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth })).status, 200);
    await s.clearLog();
    await s.sim('POST', 'fail', { path: `/api/v1/group/${gid}/light`, mode: 'vanish', count: 1 });
    const g = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth });
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.result.group_id, gid);
    assert.equal((await s.upstream()).length, 2);
  });

  it('reads answers sent chunked: a relay, an access check, an error', async () => {
    await s.sim('POST', 'fail', { path: DEVICE, mode: 'chunked', count: 1 });
    const r = await relay();
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, true);
    assert.equal(typeof r.json.result.device_id, 'string');

    const gid = await s.group(owner);
    await s.sim('POST', 'fail', { path: `/api/v1/group/${gid}/light`, mode: 'chunked', count: 1 });
    const g = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth });
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.result.rank, 0);

    // A chunked 4xx envelope is relayed as sentc sent it.
    const other = await s.user('wire-other');
    await s.sim('POST', 'fail', { path: `/api/v1/group/${gid}/light`, mode: 'chunked', count: 1 });
    const n = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: other.auth });
    assert.equal(n.json.status, false, n.text);
    assert.equal(n.json.err_code, 310);
    const applied = (await s.sim('GET', 'fail')).applied.filter((a) => a.mode === 'chunked');
    assert.equal(applied.reduce((t, a) => t + a.count, 0), 3);
  });

  it('sends what sentc reads: the path, the token, the JWT, the body whole', async () => {
    const gid = await s.group(owner);
    await s.clearLog();
    assert.equal((await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth })).status, 200);
    const name = `body-${'x'.repeat(20000)}`;
    assert.equal((await s.api('POST', DEVICE, { body: device(name) })).status, 200);
    const [light, dev] = await s.upstream();
    assert.equal(light.method, 'GET');
    assert.equal(light.path, `/api/v1/group/${gid}/light`);
    assert.equal(light.token, 'public');
    assert.equal(light.auth, owner.jwt);
    assert.equal(light.body, null);
    assert.equal(dev.method, 'POST');
    assert.equal(dev.token, 'public');
    assert.equal(dev.auth, null);
    assert.equal(dev.body.device_identifier, name);
  });
});

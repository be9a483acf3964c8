'use strict';
/* The group's own data: members read it, admins and the creator replace it. */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { start, forge } = require('./harness');

const url = (gid) => `/backend/groups/${gid}/data`;

describe('/backend/groups/{gid}/data', () => {
  let s; let owner; let admin; let member; let stranger; let gid;
  before(async () => {
    s = await start();
    owner = await s.user('owner');
    admin = await s.user('admin');
    member = await s.user('member');
    stranger = await s.user('stranger');
    gid = await s.group(owner, { title: 'Team', color: 3 });
    await s.sim('POST', 'group/member', { group_id: gid, user_id: admin.id, rank: 1 });
    await s.sim('POST', 'group/member', { group_id: gid, user_id: member.id, rank: 3 });
  });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  const stored = () => JSON.parse(s.rows(`SELECT group_data FROM groups WHERE group_id = '${gid}'`)[0].group_data);

  it('GET gives every member the group_data stored at create', async () => {
    for (const u of [owner, admin, member]) {
      const r = await s.api('GET', url(gid), { headers: u.auth });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: true, result: { title: 'Team', color: 3 } });
    }
  });

  it('PUT by an admin or the creator replaces it', async () => {
    let r = await s.api('PUT', url(gid), { body: { title: 'Renamed' }, headers: admin.auth });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.result, { title: 'Renamed' });
    assert.deepEqual(stored(), { title: 'Renamed' });
    r = await s.api('PUT', url(gid), { body: { title: 'Team', color: 3 }, headers: owner.auth });
    assert.equal(r.status, 200, r.text);
    r = await s.api('GET', url(gid), { headers: member.auth });
    assert.deepEqual(r.json.result, { title: 'Team', color: 3 });
  });

  it('PUT by a plain member gets sentc\'s 301 and changes nothing', async () => {
    const r = await s.api('PUT', url(gid), { body: { title: 'mine' }, headers: member.auth });
    assert.equal(r.status, 400);
    assert.equal(r.json.err_code, 301);
    assert.deepEqual(stored(), { title: 'Team', color: 3 });
  });

  it('a non-member gets sentc\'s 310 for GET and PUT', async () => {
    for (const m of ['GET', 'PUT']) {
      const r = await s.api(m, url(gid), { body: m === 'PUT' ? { x: 1 } : undefined, headers: stranger.auth });
      assert.equal(r.status, 400, m);
      assert.equal(r.json.err_code, 310, m);
    }
    assert.deepEqual(stored(), { title: 'Team', color: 3 });
  });

  it('a group created without group_data has {}; one created elsewhere has none (404)', async () => {
    const plain = await s.group(owner);
    let r = await s.api('GET', url(plain), { headers: owner.auth });
    assert.deepEqual(r.json, { status: true, result: {} });
    s.sql(`DELETE FROM groups WHERE group_id = '${plain}'`);
    r = await s.api('GET', url(plain), { headers: owner.auth });
    assert.equal(r.status, 404);
    assert.equal(r.json.err_code, 20035);
    r = await s.api('PUT', url(plain), { body: { a: 1 }, headers: owner.auth });
    assert.equal(r.status, 404);
    assert.equal(s.rows(`SELECT 1 FROM groups WHERE group_id = '${plain}'`).length, 0, 'PUT made no row');
  });

  it('refuses a body that is not an object, or too large, and keeps the data', async () => {
    for (const [body, status, code] of [['[1]', 400, 20007], ['"x"', 400, 20007], ['{', 400, 20006], ['', 400, 20006],
      [JSON.stringify({ v: 'x'.repeat(17000) }), 413, 20008]]) {
      const r = await s.api('PUT', url(gid), { body, headers: owner.auth });
      assert.equal(r.status, status, body.slice(0, 20));
      assert.equal(r.json.err_code, code, body.slice(0, 20));
    }
    assert.deepEqual(stored(), { title: 'Team', color: 3 });
  });

  it('refuses a missing, forged or expired JWT with 401 and no upstream call', async () => {
    const expired = (await s.session(owner.id, { exp_in: -60 })).jwt;
    for (const [headers, code] of [[{}, 20012], [{ authorization: `Bearer ${forge(owner.jwt)}` }, 20016],
      [{ authorization: `Bearer ${expired}` }, 20017]]) {
      const r = await s.api('GET', url(gid), { headers });
      assert.equal(r.status, 401);
      assert.equal(r.json.err_code, code);
    }
    assert.deepEqual(await s.upstream(), []);
  });

  it('refuses a bad group id with 400 and no upstream call', async () => {
    for (const bad of ['nope', `${gid}x`, gid.replace(/-/g, '')]) {
      const r = await s.api('GET', url(bad), { headers: owner.auth });
      assert.equal(r.status, 400, bad);
      assert.equal(r.json.err_code, 20004, bad);
    }
    assert.deepEqual(await s.upstream(), []);
  });

  it('answers 502 or 504 when the access check cannot reach sentc', async () => {
    const g = await s.group(owner, { a: 1 });
    await s.sim('POST', 'fail', { path: `/api/v1/group/${g}/light`, mode: '5xx', count: 1 });
    let r = await s.api('GET', url(g), { headers: owner.auth });
    assert.equal(r.status, 502);
    assert.equal(r.json.err_code, 20025);
    await s.sim('POST', 'fail', { path: `/api/v1/group/${g}/light`, mode: 'garbage', count: 1 });
    r = await s.api('GET', url(g), { headers: owner.auth });
    assert.equal(r.status, 502);
    assert.equal(r.json.err_code, 20010);
  });

  it('answers 405 to other methods', async () => {
    const r = await s.api('DELETE', url(gid), { headers: owner.auth });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET, HEAD, PUT');
  });
});

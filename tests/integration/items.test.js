'use strict';
/* The end-to-end-encrypted item store per group, guarded by sentc's group access. */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { start, forge } = require('./harness');

const id = () => crypto.randomUUID();
const url = (gid, iid) => `/backend/groups/${gid}/items${iid ? `/${iid}` : ''}`;

describe('items', () => {
  let s; let owner; let member; let stranger; let gid;
  before(async () => {
    s = await start();
    owner = await s.user('owner');
    member = await s.user('member');
    stranger = await s.user('stranger');
    gid = await s.group(owner);
    await s.sim('POST', 'group/member', { group_id: gid, user_id: member.id, rank: 3 });
  });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  it('a member stores ciphertext and any member reads it back', async () => {
    const iid = id();
    let r = await s.api('PUT', url(gid, iid), { body: { data: 'AAEC/+ciphertext==' }, headers: member.auth });
    assert.equal(r.status, 200, r.text);
    r = await s.api('GET', url(gid, iid), { headers: owner.auth });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.result.data, 'AAEC/+ciphertext==');
    assert.equal(r.json.result.author, member.id);
    assert.equal(r.json.result.item_id, iid);
    assert.equal(r.json.result.group_id, gid);
    // a replace keeps created_at and changes author and data
    r = await s.api('PUT', url(gid, iid), { body: { data: 'v2' }, headers: owner.auth });
    assert.equal(r.status, 200);
    r = await s.api('GET', url(gid, iid), { headers: member.auth });
    assert.equal(r.json.result.data, 'v2');
    assert.equal(r.json.result.author, owner.id);
  });

  it('lists a group\'s items in pages', async () => {
    const g = await s.group(owner);
    const ids = Array.from({ length: 5 }, id).sort();
    for (const iid of ids)
      assert.equal((await s.api('PUT', url(g, iid), { body: { data: `d-${iid}` }, headers: owner.auth })).status, 200);
    let r = await s.api('GET', `${url(g)}?limit=2`, { headers: owner.auth });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.result.items.map((x) => x.item_id), ids.slice(0, 2));
    assert.equal(r.json.result.items[0].data, undefined, 'a list holds no ciphertext');
    assert.equal(r.json.result.next, ids[1]);
    r = await s.api('GET', `${url(g)}?limit=2&after=${r.json.result.next}`, { headers: owner.auth });
    assert.deepEqual(r.json.result.items.map((x) => x.item_id), ids.slice(2, 4));
    r = await s.api('GET', `${url(g)}?after=${ids[3]}`, { headers: owner.auth });
    assert.deepEqual(r.json.result.items.map((x) => x.item_id), ids.slice(4));
    assert.equal(r.json.result.next, null);
    for (const q of ['limit=0', 'limit=1001', 'limit=x', 'after=nope', 'after=%0a',
      // Given twice, neither counts: no first, or last, one wins.
      'limit=2&limit=1000', `after=${ids[0]}&after=${ids[3]}`, `after=${ids[0]}&limit=1&after=${ids[0]}`]) {
      r = await s.api('GET', `${url(g)}?${q}`, { headers: owner.auth });
      assert.equal(r.status, 400, q);
      assert.equal(r.json.err_code, 20028, q);
    }
  });

  it('checks access once per TTL, not per request', async () => {
    await s.api('GET', url(gid), { headers: member.auth });
    await s.clearLog();
    for (let i = 0; i < 5; i++) await s.api('GET', url(gid), { headers: member.auth });
    assert.deepEqual(await s.upstream(), []);
  });

  it("gives a non-member sentc's 310 and stores nothing", async () => {
    const iid = id();
    let r = await s.api('PUT', url(gid, iid), { body: { data: 'x' }, headers: stranger.auth });
    assert.equal(r.status, 400);
    assert.equal(r.json.err_code, 310);
    r = await s.api('GET', url(gid), { headers: stranger.auth });
    assert.equal(r.json.err_code, 310);
    assert.equal(s.rows(`SELECT 1 FROM items WHERE item_id = '${iid}'`).length, 0);
  });

  it('lets only admins and the creator delete (301 otherwise)', async () => {
    const iid = id();
    await s.api('PUT', url(gid, iid), { body: { data: 'x' }, headers: member.auth });
    let r = await s.api('DELETE', url(gid, iid), { headers: member.auth });
    assert.equal(r.status, 400);
    assert.equal(r.json.err_code, 301);
    assert.equal(s.rows(`SELECT 1 FROM items WHERE item_id = '${iid}'`).length, 1);
    r = await s.api('DELETE', url(gid, iid), { headers: owner.auth });
    assert.equal(r.status, 200, r.text);
    assert.equal(s.rows(`SELECT 1 FROM items WHERE item_id = '${iid}'`).length, 0);
    r = await s.api('DELETE', url(gid, iid), { headers: owner.auth });
    assert.equal(r.status, 404);
    assert.equal(r.json.err_code, 20027);
    r = await s.api('GET', url(gid, iid), { headers: owner.auth });
    assert.equal(r.status, 404);
  });

  it('refuses bad input: ids, bodies, oversized data', async () => {
    const iid = id();
    for (const [path, what] of [[url('nope', iid), 'group id'], [url(gid, 'nope'), 'item id'], [`${url(gid, iid)}/more`, 'extra segment']]) {
      const r = await s.api('GET', path, { headers: owner.auth });
      assert.ok([400, 404].includes(r.status), what);
      assert.equal(r.json.status, false, what);
    }
    for (const [body, status] of [['{"data": 5}', 400], ['{"data": ""}', 400], ['{}', 400], ['nope', 400],
      [JSON.stringify({ data: 'x'.repeat(65537) }), 413]]) {
      const r = await s.api('PUT', url(gid, iid), { body, headers: owner.auth });
      assert.equal(r.status, status, body.slice(0, 20));
    }
    assert.equal(s.rows(`SELECT 1 FROM items WHERE item_id = '${iid}'`).length, 0);
    const r = await s.api('POST', url(gid, iid), { body: { data: 'x' }, headers: owner.auth });
    assert.equal(r.status, 405);
  });

  it('refuses bad JWTs with 401 and no upstream call', async () => {
    const expired = (await s.session(owner.id, { exp_in: -60 })).jwt;
    for (const headers of [{}, { authorization: `Bearer ${forge(owner.jwt)}` }, { authorization: `Bearer ${expired}` }]) {
      const r = await s.api('GET', url(gid), { headers });
      assert.equal(r.status, 401);
    }
    assert.deepEqual(await s.upstream(), []);
  });

  it('answers 502 when the access check cannot reach sentc, and stores nothing', async () => {
    const g = await s.group(owner);
    const iid = id();
    await s.sim('POST', 'fail', { path: `/api/v1/group/${g}/light`, mode: 'garbage', count: 1 });
    const r = await s.api('PUT', url(g, iid), { body: { data: 'x' }, headers: owner.auth });
    assert.equal(r.status, 502);
    assert.equal(s.rows(`SELECT 1 FROM items WHERE item_id = '${iid}'`).length, 0);
  });
});

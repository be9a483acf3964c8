'use strict';
/*
 * The forced group routes: DELETE /api/v1/group/forced/{group_id} and
 * DELETE /api/v1/group/forced/{user_id}/{group_id}/kick/{user_to_kick},
 * with the admin credential. With a long access-cache TTL, access ends at
 * once after each: in the items and group programs, whose caches the admin
 * program does not hold. The delete removes the group's own data and items.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { start } = require('./harness');

const id = () => crypto.randomUUID();
const items = (gid, iid) => `/backend/groups/${gid}/items${iid ? `/${iid}` : ''}`;
const hash = (t) => crypto.createHmac('sha256', 'k').update(t).digest('base64url');

describe('forced group delete and kick', () => {
  let s; let admin; let owner; let member;

  before(async () => {
    s = await start({ SENTC_BACKEND_ACCESS_CACHE_TTL: '300' });
    admin = { authorization: `Bearer ${s.config.SENTC_BACKEND_ADMIN_TOKEN}` };
    owner = await s.user('owner');
    member = await s.user('member');
  });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  /* A group of owner with member at rank 3 and one item, each having had its access cached. */
  async function cachedGroup() {
    const gid = await s.group(owner);
    await s.sim('POST', 'group/member', { group_id: gid, user_id: member.id, rank: 3 });
    const iid = id();
    let r = await s.api('PUT', items(gid, iid), { body: { data: 'x', hashes: [[hash('w')]], sortable: { n: 1 } }, headers: owner.auth });
    assert.equal(r.status, 200, r.text);
    for (const u of [owner, member]) {
      r = await s.api('GET', items(gid, iid), { headers: u.auth });
      assert.equal(r.status, 200, r.text);
      r = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: u.auth });
      assert.equal(r.status, 200, r.text);
    }
    // From the cache now: no call to sentc.
    await s.clearLog();
    assert.equal((await s.api('GET', items(gid, iid), { headers: member.auth })).status, 200);
    assert.equal((await s.api('GET', `/api/v1/group/${gid}/light`, { headers: member.auth })).status, 200);
    assert.deepEqual(await s.upstream(), [], 'the answers are cached');
    return { gid, iid };
  }

  it('a forced delete: relayed with the secret token; access ends at once; the own data and items go', async () => {
    const { gid, iid } = await cachedGroup();
    assert.equal(s.rows(`SELECT 1 FROM items WHERE group_id = '${gid}'`).length, 1);
    await s.clearLog();
    const r = await s.api('DELETE', `/api/v1/group/forced/${gid}`, { headers: admin });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { status: true, result: 'Success' });
    const up = await s.upstream();
    assert.deepEqual(up.map((x) => [x.method, x.path, x.token, x.auth]), [['DELETE', `/api/v1/group/forced/${gid}`, 'secret', null]]);
    for (const u of [owner, member]) {
      let a = await s.api('GET', items(gid, iid), { headers: u.auth });
      assert.equal(a.status, 400, a.text);
      assert.equal(a.json.err_code, 310);
      a = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: u.auth });
      assert.equal(a.json.err_code, 310);
    }
    for (const t of ['items', 'item_hashes', 'item_sortables', 'groups'])
      assert.equal(s.rows(`SELECT 1 FROM ${t} WHERE group_id = '${gid}'`).length, 0, t);
  });

  it('a forced kick: relayed; the kicked member\'s access ends at once, the others\' stays', async () => {
    const { gid, iid } = await cachedGroup();
    await s.clearLog();
    const r = await s.api('DELETE', `/api/v1/group/forced/${owner.id}/${gid}/kick/${member.id}`, { headers: admin });
    assert.equal(r.status, 200, r.text);
    const up = await s.upstream();
    assert.deepEqual(up.map((x) => [x.method, x.path, x.token, x.auth]),
      [['DELETE', `/api/v1/group/forced/${owner.id}/${gid}/kick/${member.id}`, 'secret', null]]);
    let a = await s.api('GET', items(gid, iid), { headers: member.auth });
    assert.equal(a.json.err_code, 310, a.text);
    a = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: member.auth });
    assert.equal(a.json.err_code, 310, a.text);
    await s.clearLog();
    a = await s.api('GET', items(gid, iid), { headers: owner.auth });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(await s.upstream(), [], 'the owner\'s cached answer still serves');
    assert.equal(s.rows(`SELECT 1 FROM items WHERE group_id = '${gid}'`).length, 1, 'a kick removes no items');
  });

  it('a forced kick relays x-sentc-group-access-id', async () => {
    const gid = await s.group(owner);
    await s.sim('POST', 'group/member', { group_id: gid, user_id: member.id, rank: 3 });
    const via = id();
    await s.clearLog();
    await s.api('DELETE', `/api/v1/group/forced/${owner.id}/${gid}/kick/${member.id}`,
      { headers: { ...admin, 'x-sentc-group-access-id': via } });
    const up = await s.upstream();
    assert.equal(up.length, 1);
    assert.equal(up[0].group_access_id, via);
  });

  it('passes sentc\'s refusals through and changes nothing', async () => {
    const { gid, iid } = await cachedGroup();
    for (const [path, code] of [
      [`/api/v1/group/forced/${owner.id}/${gid}/kick/${owner.id}`, 315],
      [`/api/v1/group/forced/${member.id}/${gid}/kick/${owner.id}`, 301],
      [`/api/v1/group/forced/${owner.id}/${gid}/kick/${id()}`, 300],
      [`/api/v1/group/forced/${id()}/${gid}/kick/${member.id}`, 100],
      [`/api/v1/group/forced/${id()}`, 310],
    ]) {
      const r = await s.api('DELETE', path, { headers: admin });
      assert.equal(r.status, 400, path);
      assert.equal(r.json.err_code, code, path);
    }
    assert.equal((await s.api('GET', items(gid, iid), { headers: member.auth })).status, 200);
    assert.equal(s.rows(`SELECT 1 FROM items WHERE group_id = '${gid}'`).length, 1);
  });

  it('needs the admin credential, and ids; nothing reaches sentc otherwise', async () => {
    const { gid } = await cachedGroup();
    await s.clearLog();
    for (const headers of [{}, { authorization: 'Bearer wrong' }, owner.auth]) {
      let r = await s.api('DELETE', `/api/v1/group/forced/${gid}`, { headers });
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.err_code, 20032);
      r = await s.api('DELETE', `/api/v1/group/forced/${owner.id}/${gid}/kick/${member.id}`, { headers });
      assert.equal(r.status, 401, r.text);
    }
    for (const path of ['/api/v1/group/forced/nope', `/api/v1/group/forced/${owner.id}/nope/kick/${member.id}`,
      `/api/v1/group/forced/${owner.id}/${gid}/kick/nope`]) {
      const r = await s.api('DELETE', path, { headers: admin });
      assert.equal(r.status, 400, path);
      assert.equal(r.json.status, false);
    }
    let r = await s.api('GET', `/api/v1/group/forced/${gid}`, { headers: admin });
    assert.equal(r.status, 405);
    r = await s.api('DELETE', `/api/v1/group/forced/${owner.id}/${gid}/kick/${member.id}`,
      { headers: { ...admin, 'x-sentc-group-access-id': 'nope' } });
    assert.equal(r.status, 400);
    assert.deepEqual(await s.upstream(), []);
    assert.equal((await s.api('GET', items(gid), { headers: member.auth })).status, 200);
  });

  it('a store that cannot record the end of access: 503, nothing sent to sentc', async () => {
    const { gid } = await cachedGroup();
    await s.clearLog();
    const undo = s.failWrites('access_revoked', 'INSERT');
    try {
      const r = await s.api('DELETE', `/api/v1/group/forced/${gid}`, { headers: admin });
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.err_code, 20020);
    } finally { undo(); }
    assert.deepEqual(await s.upstream(), []);
    assert.ok((await s.sim('GET', 'state')).groups.some((g) => g.group_id === gid));
  });
});

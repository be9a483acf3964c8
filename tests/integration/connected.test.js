'use strict';
/*
 * Connected groups: the SDK sends x-sentc-group-access-id: G' on group
 * routes to reach a group G as a member of the group G'. The backend
 * relays it on every group call it makes, checks it is a group id first,
 * and keys its access cache by it: an answer got through one path of
 * access is never given for another.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { start } = require('./harness');

const HEADER = 'x-sentc-group-access-id';
const BAD_ID = {
  status: false, err_msg: 'Id has a wrong format. Make sure to follow the uuid v4 or v7 format.', err_code: 1,
};

describe('connected groups and x-sentc-group-access-id', () => {
  let s; let owner; let member; let outsider; let gp; let g; let other;
  const via = (u, id) => ({ ...u.auth, ...(id ? { [HEADER]: id } : {}) });

  before(async () => {
    s = await start();
    owner = await s.user('cg-owner');
    member = await s.user('cg-member');
    outsider = await s.user('cg-outsider');
    // G' through the backend; G, connected with G' as its member, through the pass-through to sentc,
    // as the SDK makes it (POST /group/{G'}/connected).
    gp = await s.group(owner, { title: "G'" });
    const r = await s.api('POST', `/api/v1/group/${gp}/connected`, {
      headers: { ...owner.auth, 'x-sentc-app-token': s.config.SENTC_PUBLIC_TOKEN }, body: { keys: 'k' },
    });
    assert.equal(r.status, 200, r.text);
    g = r.json.result.group_id;
    // The member is in G' only (rank 2); the outsider is in G' (rank 3) and in a group of its own,
    // which is not a member of G.
    await s.sim('POST', 'group/member', { group_id: gp, user_id: member.id, rank: 2 });
    other = await s.group(outsider);
    await s.sim('POST', 'group/member', { group_id: gp, user_id: outsider.id, rank: 3 });
  });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  it("a user only in G' reaches G through the header, which goes to sentc with the call", async () => {
    const r = await s.api('GET', `/api/v1/group/${g}/light`, { headers: via(member, gp) });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.result.access_by, { GroupAsUser: gp });
    assert.equal(r.json.result.is_connected_group, true);
    assert.equal(r.json.result.rank, 2);
    const up = await s.upstream();
    assert.deepEqual(up.map((x) => [x.method, x.path, x.group_access_id, x.auth]),
      [['GET', `/api/v1/group/${g}/light`, gp, member.jwt]]);
  });

  it('the cache is keyed by the header: with and without it, each answer stays its own', async () => {
    const gid = (await s.sim('POST', 'groups', { user_id: member.id, count: 1 })).group_ids[0];
    await s.sim('POST', 'group/member', { group_id: gid, member_group_id: gp, rank: 1 });
    const twice = async (headers) => {
      const a = await s.api('GET', `/api/v1/group/${gid}/light`, { headers });
      const b = await s.api('GET', `/api/v1/group/${gid}/light`, { headers });
      assert.equal(a.text, b.text);
      return a;
    };
    // The same user and group: as a direct member (rank 0), through G' (G' has rank 1 in it).
    const direct = await twice(via(member));
    const throughGp = await twice(via(member, gp));
    assert.equal(direct.json.result.access_by, 'User');
    assert.equal(direct.json.result.rank, 0);
    assert.deepEqual(throughGp.json.result.access_by, { GroupAsUser: gp });
    assert.equal(throughGp.json.result.rank, 2, "the weaker of G's rank and the user's in G'");
    // And a refusal through a group that is not a member stays apart from both.
    const refused = await twice(via(member, other));
    assert.equal(refused.status, 400);
    assert.equal(refused.json.err_code, 310);
    assert.equal((await twice(via(member))).json.result.rank, 0);
    const up = await s.upstream();
    assert.deepEqual(up.map((x) => x.group_access_id), [null, gp, other],
      'one call per path of access, each answer cached apart');
  });

  it("through the outsider's own group, which is not in G: sentc's 310, and none cached for G'", async () => {
    let r = await s.api('GET', `/api/v1/group/${g}/light`, { headers: via(outsider, other) });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.err_code, 310);
    r = await s.api('GET', `/api/v1/group/${g}/light`, { headers: via(outsider) });
    assert.equal(r.json.err_code, 310);
    r = await s.api('GET', `/api/v1/group/${g}/light`, { headers: via(outsider, gp) });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.result.rank, 3);
    assert.equal((await s.upstream()).length, 3);
  });

  it("the app's own routes check access through the header, and take the rank reached through it", async () => {
    const item = `/backend/groups/${g}/items/${crypto.randomUUID()}`;
    let r = await s.api('PUT', item, { headers: via(member), body: { data: 'AAEC' } });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.err_code, 310);
    r = await s.api('PUT', item, { headers: via(member, gp), body: { data: 'AAEC' } });
    assert.equal(r.status, 200, r.text);
    r = await s.api('GET', item, { headers: via(member, gp) });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.result.data, 'AAEC');
    // Deleting an item needs an admin: rank 2 through G' is not.
    r = await s.api('DELETE', item, { headers: via(member, gp) });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.err_code, 301);
    r = await s.api('GET', `/backend/groups/${g}/data`, { headers: via(member, gp) });
    assert.equal(r.status, 404, 'access granted; G, made at sentc directly, has no own data');
    assert.equal(r.json.err_code, 20035);
    const up = await s.upstream();
    assert.ok(up.length >= 2);
    assert.ok(up.every((x) => x.path === `/api/v1/group/${g}/light`));
    assert.deepEqual(up.map((x) => x.group_access_id).sort(), [...new Array(up.length - 1).fill(gp), null].sort());
  });

  it('DELETE /api/v1/group/{id} relays the header: the rank through it decides', async () => {
    let r = await s.api('DELETE', `/api/v1/group/${g}`, { headers: via(member, gp) });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.err_code, 301);
    const child = (await s.api('POST', `/api/v1/group/${g}/child`, {
      headers: { ...via(owner, gp), 'x-sentc-app-token': s.config.SENTC_PUBLIC_TOKEN }, body: {},
    })).json.result.group_id;
    r = await s.api('DELETE', `/api/v1/group/${child}`, { headers: via(owner, gp) });
    assert.equal(r.status, 200, r.text);
    const up = (await s.upstream()).filter((x) => x.method === 'DELETE');
    assert.deepEqual(up.map((x) => [x.path, x.group_access_id]),
      [[`/api/v1/group/${g}`, gp], [`/api/v1/group/${child}`, gp]]);
  });

  it("a header that is not a group id gets sentc's 400/1 before any call", async () => {
    for (const bad of ['nope', gp.replace(/-/g, ''), `{${gp}}`, '0f8fad5b-d9cb-169f-a165-70867728950e']) {
      for (const [method, p, body] of [
        ['GET', `/api/v1/group/${g}/light`],
        ['DELETE', `/api/v1/group/${g}`],
        ['POST', '/api/v1/group', { keys: 'k' }],
        ['GET', `/backend/groups/${g}/items`],
      ]) {
        const r = await s.api(method, p, { headers: via(member, bad), body });
        assert.equal(r.status, 400, `${method} ${p} ${bad}: ${r.text}`);
        assert.deepEqual(r.json, BAD_ID, `${method} ${p} ${bad}`);
      }
    }
    assert.deepEqual(await s.upstream(), []);
  });

  it('POST /api/v1/group relays the header too; the undo of a create goes without it', async () => {
    let r = await s.api('POST', '/api/v1/group', { headers: via(owner, gp), body: { keys: 'k' } });
    assert.equal(r.status, 200, r.text);
    const undo = s.failWrites('groups', 'INSERT');
    try {
      r = await s.api('POST', '/api/v1/group', { headers: via(owner, gp), body: { keys: 'k' } });
    } finally {
      undo();
    }
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.err_code, 20022, 'undone: the creator is the new group\'s own member');
    const up = await s.upstream();
    assert.deepEqual(up.map((x) => [x.method, x.group_access_id]),
      [['POST', gp], ['POST', gp], ['DELETE', null]]);
  });
});

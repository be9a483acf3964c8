'use strict';
/* Group routes: create, delete and the cached access check, through nginx. */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { start, forge, waitFor } = require('./harness');

const UUID = '0b7c3f0e-6a63-4a0e-9d3e-2c1a7c0f9e11';

/* The ways a JWT can be bad; none may cost an upstream call. */
async function badJwts(s) {
  const u = await s.user('jwt');
  const expired = (await s.session(u.id, { exp_in: -60 })).jwt;
  return [
    ['no JWT', {}, 20012],
    ['a forged JWT', { authorization: `Bearer ${forge(u.jwt)}` }, 20016],
    ['an expired JWT', { authorization: `Bearer ${expired}` }, 20017],
    ['a JWT that is not one', { authorization: 'Bearer abc.def' }, 20013],
  ];
}

describe('groups', () => {
  let s; let owner; let bad;
  before(async () => {
    s = await start();
    owner = await s.user('owner');
    bad = await badJwts(s);
  });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  describe('POST /api/v1/group', () => {
    it('relays with the JWT and the public token, and stores group_data', async () => {
      const r = await s.api('POST', '/api/v1/group', {
        body: { keys: 'k', group_data: { title: 'Team' } }, headers: owner.auth,
      });
      assert.equal(r.status, 200, r.text);
      const gid = r.json.result.group_id;
      const up = await s.upstream();
      assert.equal(up.length, 1);
      assert.equal(up[0].token, 'public');
      assert.equal(up[0].auth, owner.jwt);
      assert.deepEqual(up[0].body, { keys: 'k' });
      const rows = s.rows(`SELECT creator, group_data FROM groups WHERE group_id = '${gid}'`);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].creator, owner.id);
      assert.deepEqual(JSON.parse(rows[0].group_data), { title: 'Team' });
    });

    it('refuses bad JWTs with 401 and no upstream call', async () => {
      for (const [what, headers, code] of bad) {
        const r = await s.api('POST', '/api/v1/group', { body: { keys: 'k' }, headers });
        assert.equal(r.status, 401, what);
        assert.equal(r.json.err_code, code, what);
      }
      assert.deepEqual(await s.upstream(), []);
    });

    it('refuses group_data that is not an object, or too large, before upstream', async () => {
      let r = await s.api('POST', '/api/v1/group', { body: { group_data: [1] }, headers: owner.auth });
      assert.equal(r.status, 400);
      r = await s.api('POST', '/api/v1/group', { body: { group_data: { v: 'x'.repeat(17000) } }, headers: owner.auth });
      assert.equal(r.status, 413);
      assert.equal(r.json.err_code, 20008);
      assert.deepEqual(await s.upstream(), []);
    });

    it('deletes the group at sentc again when it cannot be stored', async () => {
      const undo = s.failWrites('groups', 'INSERT');
      try {
        const r = await s.api('POST', '/api/v1/group', { body: { keys: 'k' }, headers: owner.auth });
        assert.equal(r.status, 503, r.text);
        assert.equal(r.json.err_code, 20022);
      } finally {
        undo();
      }
      const up = await s.upstream();
      assert.equal(up.length, 2);
      assert.equal(up[1].method, 'DELETE');
      assert.match(up[1].path, /^\/api\/v1\/group\/[0-9a-f-]{36}$/);
      assert.equal(up[1].auth, owner.jwt);
      const state = await s.sim('GET', 'state');
      assert.ok(!state.groups.some((g) => g.group_id === up[1].path.split('/').pop()));
    });

    it('answers upstream faults with 502', async () => {
      await s.sim('POST', 'fail', { path: '/api/v1/group', mode: 'garbage', count: 1 });
      const r = await s.api('POST', '/api/v1/group', { body: { keys: 'k', group_data: {} }, headers: owner.auth });
      assert.equal(r.status, 502);
    });

    it('leaves other methods on the path to sentc', async () => {
      const r = await s.api('GET', '/api/v1/group', { headers: { ...owner.auth, 'x-sentc-app-token': s.config.SENTC_PUBLIC_TOKEN } });
      assert.equal(r.json.err_code, 404, 'the simulator answered');
      assert.equal((await s.upstream()).length, 1);
    });
  });

  describe('GET /api/v1/group/{id}/light', () => {
    it('answers a member with sentc\'s data, then from the cache', async () => {
      const gid = await s.group(owner);
      await s.clearLog();
      const r1 = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth });
      assert.equal(r1.status, 200, r1.text);
      assert.equal(r1.json.result.group_id, gid);
      assert.equal(r1.json.result.rank, 0);
      for (let i = 0; i < 5; i++) {
        const r = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth });
        assert.equal(r.text, r1.text);
      }
      const up = await s.upstream();
      assert.equal(up.length, 1, 'one upstream call for six checks within the TTL');
      assert.equal(up[0].auth, owner.jwt);
      assert.equal(up[0].token, 'public');
    });

    it('answers a non-member sentc\'s 310, cached too, and per user', async () => {
      const gid = await s.group(owner);
      const other = await s.user('other');
      await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth });
      await s.clearLog();
      for (let i = 0; i < 3; i++) {
        const r = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: other.auth });
        assert.equal(r.status, 400);
        assert.equal(r.json.err_code, 310);
      }
      assert.equal((await s.upstream()).length, 1, "the owner's entry is not the other user's");
    });

    it('is dropped when the group is deleted', async () => {
      const gid = await s.group(owner);
      let r = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth });
      assert.equal(r.status, 200);
      r = await s.api('DELETE', `/api/v1/group/${gid}`, { headers: owner.auth });
      assert.equal(r.status, 200, r.text);
      await s.clearLog();
      r = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth });
      assert.equal(r.status, 400);
      assert.equal(r.json.err_code, 310);
      assert.equal((await s.upstream()).length, 1, 'asked sentc again');
    });

    it('refuses bad JWTs and bad ids without an upstream call', async () => {
      for (const [what, headers, code] of bad) {
        const r = await s.api('GET', `/api/v1/group/${UUID}/light`, { headers });
        assert.equal(r.status, 401, what);
        assert.equal(r.json.err_code, code, what);
      }
      for (const id of ['not-a-uuid', `${UUID}x`, '%2e%2e', '..%2f..', `${UUID}%00`, UUID.replace(/-/g, '')]) {
        const r = await s.raw('GET', `/api/v1/group/${id}/light`, owner.auth);
        assert.equal(r.status, 400, id);
        assert.ok([20004, 20029].includes(r.json?.err_code), `${id}: ${r.text}`);
      }
      assert.deepEqual(await s.upstream(), []);
    });

    it('answers upstream faults with 502 or 504, and caches nothing', async () => {
      const gid = await s.group(owner);
      await s.sim('POST', 'fail', { path: `/api/v1/group/${gid}/light`, mode: '5xx', count: 1 });
      let r = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth });
      assert.equal(r.status, 502);
      r = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth });
      assert.equal(r.status, 200);
    });
  });

  describe('DELETE /api/v1/group/{id}', () => {
    it('relays, then removes the own group data and items', async () => {
      const gid = await s.group(owner, { t: 1 });
      let r = await s.api('PUT', `/backend/groups/${gid}/items/${UUID}`, { body: { data: 'c' }, headers: owner.auth });
      assert.equal(r.status, 200, r.text);
      r = await s.api('DELETE', `/api/v1/group/${gid}`, { headers: owner.auth });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: true, result: 'Success' });
      assert.equal(s.rows(`SELECT 1 FROM groups WHERE group_id = '${gid}'`).length, 0);
      assert.equal(s.rows(`SELECT 1 FROM items WHERE group_id = '${gid}'`).length, 0);
    });

    it("passes sentc's 301 (rank too low) and 310 (not a member) through, keeping the data", async () => {
      const gid = await s.group(owner, { t: 2 });
      const member = await s.user('member');
      const stranger = await s.user('stranger');
      await s.sim('POST', 'group/member', { group_id: gid, user_id: member.id, rank: 2 });
      let r = await s.api('DELETE', `/api/v1/group/${gid}`, { headers: member.auth });
      assert.equal(r.status, 400);
      assert.equal(r.json.err_code, 301);
      r = await s.api('DELETE', `/api/v1/group/${gid}`, { headers: stranger.auth });
      assert.equal(r.status, 400);
      assert.equal(r.json.err_code, 310);
      assert.equal(s.rows(`SELECT 1 FROM groups WHERE group_id = '${gid}'`).length, 1);
    });

    it('refuses bad JWTs and bad ids without an upstream call', async () => {
      for (const [what, headers] of bad) {
        const r = await s.api('DELETE', `/api/v1/group/${UUID}`, { headers });
        assert.equal(r.status, 401, what);
      }
      const r = await s.api('DELETE', '/api/v1/group/1234', { headers: owner.auth });
      assert.equal(r.status, 400);
      assert.equal(r.json.err_code, 20004);
      assert.deepEqual(await s.upstream(), []);
    });

    it('keeps the data when sentc fails', async () => {
      const gid = await s.group(owner, { t: 3 });
      await s.sim('POST', 'fail', { path: `/api/v1/group/${gid}`, method: 'DELETE', mode: 'garbage', count: 1 });
      const r = await s.api('DELETE', `/api/v1/group/${gid}`, { headers: owner.auth });
      assert.equal(r.status, 502);
      assert.equal(s.rows(`SELECT 1 FROM groups WHERE group_id = '${gid}'`).length, 1);
    });

    it('leaves GET on the path to sentc', async () => {
      const r = await s.api('GET', `/api/v1/group/${UUID}`, { headers: { ...owner.auth, 'x-sentc-app-token': s.config.SENTC_PUBLIC_TOKEN } });
      assert.equal(r.json.err_code, 404, 'the simulator answered');
    });
  });
});

describe('the access cache expires', () => {
  // Expiry counts whole seconds: an entry lives between TTL - 1 and TTL
  // seconds, so 5 keeps it for the next request on a busy machine.
  const TTL = 5;
  let s; let owner;
  before(async () => {
    s = await start({ SENTC_BACKEND_ACCESS_CACHE_TTL: String(TTL) });
    owner = await s.user('ttl');
  });
  after(() => s.stop());

  it('asks sentc again after the TTL: a removed member loses access', async () => {
    const gid = await s.group(owner);
    const member = await s.user('leaving');
    await s.sim('POST', 'group/member', { group_id: gid, user_id: member.id, rank: 3 });
    let r = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: member.auth });
    assert.equal(r.status, 200);
    const cached = Date.now();	// the entry was made before this
    await s.sim('DELETE', 'group/member', { group_id: gid, user_id: member.id });
    r = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: member.auth });
    assert.equal(r.status, 200, 'still cached within the TTL');
    // The entry is older than TTL + 1 s (whole seconds), however long the above took.
    await waitFor(() => Date.now() > cached + (TTL + 1) * 1000 + 100, `the clock ${TTL + 1} s past the entry`);
    await s.clearLog();
    r = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: member.auth });
    assert.equal(r.status, 400);
    assert.equal(r.json.err_code, 310);
    assert.equal((await s.upstream()).length, 1);
  });
});

describe('the access cache disabled', () => {
  let s; let owner;
  before(async () => {
    s = await start({ SENTC_BACKEND_ACCESS_CACHE_TTL: '0' });
    owner = await s.user('nocache');
  });
  after(() => s.stop());

  it('asks sentc every time with SENTC_BACKEND_ACCESS_CACHE_TTL=0', async () => {
    const gid = await s.group(owner);
    await s.clearLog();
    for (let i = 0; i < 3; i++)
      assert.equal((await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth })).status, 200);
    assert.equal((await s.upstream()).length, 3);
  });
});

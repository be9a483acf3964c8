'use strict';
/*
 * The token per endpoint: each call the backend makes goes with the token
 * of its SENTC_BACKEND_TOKEN_<OPTION> setting, named after the app option
 * of sentc it mirrors. An app whose options make the group endpoints
 * secret-only works once the settings say so; where the two disagree,
 * sentc's 400/203 comes back as it is.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { start, registerInput } = require('./harness');

const SECRET_GROUPS = {
  SENTC_BACKEND_TOKEN_GROUP_CREATE: 'secret',
  SENTC_BACKEND_TOKEN_GROUP_DELETE: 'secret',
  SENTC_BACKEND_TOKEN_GROUP_GET: 'secret',
};
const NO_ACCESS = { status: false, err_msg: 'No access to this action', err_code: 203 };

describe('group endpoints secret-only in the app options', () => {
  let s; let owner;
  before(async () => {
    s = await start(SECRET_GROUPS);
    for (const endpoint of ['group_create', 'group_delete', 'group_get']) {
      await s.sim('POST', 'endpoint', { endpoint, kind: 'secret' });
    }
    owner = await s.user('sec');
  });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  it('create, access checks and delete work, each call with the secret token', async () => {
    const gid = await s.group(owner, { title: 'secret-only' });
    let r = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.result.rank, 0);
    // The app's own routes check access through the same call.
    r = await s.api('GET', `/backend/groups/${gid}/data`, { headers: owner.auth });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.result, { title: 'secret-only' });
    r = await s.api('PUT', `/backend/groups/${gid}/items/${crypto.randomUUID()}`, {
      headers: owner.auth, body: { data: 'AAEC' },
    });
    assert.equal(r.status, 200, r.text);
    r = await s.api('DELETE', `/api/v1/group/${gid}`, { headers: owner.auth });
    assert.equal(r.status, 200, r.text);
    const up = await s.upstream();
    // One access check per program (each has its own cache): light, data, items.
    assert.deepEqual(up.map((x) => `${x.method} ${x.path.replace(gid, 'G')} ${x.token}`), [
      'POST /api/v1/group secret',
      'GET /api/v1/group/G/light secret',
      'GET /api/v1/group/G/light secret',
      'GET /api/v1/group/G/light secret',
      'DELETE /api/v1/group/G secret',
    ]);
    assert.ok(!(await s.sim('GET', 'state')).groups.some((g) => g.group_id === gid));
  });

  it('a create that cannot be stored is undone with the token of group_delete', async () => {
    const undo = s.failWrites('groups', 'INSERT');
    let r;
    try {
      r = await s.api('POST', '/api/v1/group', { body: { keys: 'k' }, headers: owner.auth });
    } finally {
      undo();
    }
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.err_code, 20022, 'undone at sentc');
    const up = await s.upstream();
    assert.deepEqual(up.map((x) => `${x.method} ${x.token}`), ['POST secret', 'DELETE secret']);
    assert.ok(!(await s.sim('GET', 'state')).groups.some((g) => up[1].path.endsWith(g.group_id)));
  });

  it('with the settings left public, sentc\'s 400/203 comes back as it is, and is not cached', async () => {
    const gid = await s.group(owner);
    const asDefault = Object.fromEntries(Object.keys(SECRET_GROUPS).map((k) => [k, 'public']));
    for (const p of ['group', 'group-create', 'group-data']) await s.restart(p, asDefault);
    try {
      await s.clearLog();
      const calls = [
        ['POST', '/api/v1/group', { keys: 'k' }],
        ['GET', `/api/v1/group/${gid}/light`],
        ['GET', `/api/v1/group/${gid}/light`],
        ['GET', `/backend/groups/${gid}/data`],
        ['DELETE', `/api/v1/group/${gid}`],
      ];
      for (const [method, p, body] of calls) {
        const r = await s.api(method, p, { headers: owner.auth, body });
        assert.equal(r.status, 400, `${method} ${p}: ${r.text}`);
        assert.deepEqual(r.json, NO_ACCESS, `${method} ${p}`);
      }
      const up = await s.upstream();
      assert.equal(up.length, calls.length, 'each asked sentc: a refusal of the token is no answer about access');
      assert.ok(up.every((x) => x.token === 'public'));
      assert.ok((await s.sim('GET', 'state')).groups.some((g) => g.group_id === gid), 'nothing deleted');
    } finally {
      for (const p of ['group', 'group-create', 'group-data']) await s.restart(p);
    }
  });
});

describe('a group create undone when only group_delete is secret-only', () => {
  let s; let owner;
  before(async () => {
    s = await start({ SENTC_BACKEND_TOKEN_GROUP_DELETE: 'secret' });
    await s.sim('POST', 'endpoint', { endpoint: 'group_delete', kind: 'secret' });
    owner = await s.user('undo');
  });
  after(() => s.stop());

  it('creates with the public token and undoes with the secret one', async () => {
    await s.clearLog();
    const undo = s.failWrites('groups', 'INSERT');
    let r;
    try {
      r = await s.api('POST', '/api/v1/group', { body: { keys: 'k' }, headers: owner.auth });
    } finally {
      undo();
    }
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.err_code, 20022);
    const up = await s.upstream();
    assert.deepEqual(up.map((x) => `${x.method} ${x.token}`), ['POST public', 'DELETE secret']);
    assert.equal((await s.sim('GET', 'state')).groups.length, 0, 'no group left at sentc');
  });
});

describe('each user endpoint takes the token of its setting', () => {
  let s;
  before(async () => { s = await start(); });
  after(() => s.stop());

  it('the pass-through carries the token the client sent: a secret-only endpoint stays closed to it', async () => {
    const u = await s.user('pass');
    await s.clearLog();
    // GET /user/jwt (secret always), sent by a browser with the public token to the backend's
    // origin, reaches sentc as sent: sentc refuses it.
    const r = await s.api('GET', '/api/v1/user/jwt', {
      headers: { ...u.auth, 'x-sentc-app-token': s.config.SENTC_PUBLIC_TOKEN },
    });
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(r.json, NO_ACCESS);
    const up = await s.upstream();
    assert.deepEqual(up.map((x) => `${x.method} ${x.path} ${x.token}`), ['GET /api/v1/user/jwt public']);
  });

  /* [app option, setting, program, the sentc path, its default, a call through the backend] */
  const cases = [
    ['user_register', 'SENTC_BACKEND_TOKEN_USER_REGISTER', 'register', '/api/v1/register', 'secret',
      (t) => t.api('POST', '/api/v1/register', { body: registerInput(`tk-${Math.random()}`) })],
    ['user_exists', 'SENTC_BACKEND_TOKEN_USER_EXISTS', 'register', '/api/v1/exists', 'public',
      (t) => t.api('POST', '/api/v1/register', { body: registerInput(`tk-${Math.random()}`) })],
    ['user_device_register', 'SENTC_BACKEND_TOKEN_USER_DEVICE_REGISTER', 'register-device',
      '/api/v1/user/prepare_register_device', 'public',
      (t) => t.api('POST', '/api/v1/user/prepare_register_device', { body: { device_identifier: `tk-${Math.random()}` } })],
    ['user_delete', 'SENTC_BACKEND_TOKEN_USER_DELETE', 'user-delete', '/api/v1/user', 'secret',
      async (t) => t.api('DELETE', '/api/v1/user', { headers: (await t.user('tkdel')).auth })],
  ];

  for (const [option, setting, program, sentcPath, dflt, call] of cases) {
    it(`${setting}: ${dflt} by default, the other kind when set`, async () => {
      const other = dflt === 'secret' ? 'public' : 'secret';
      await s.clearLog();
      let r = await call(s);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual((await s.upstream()).filter((x) => x.path === sentcPath).map((x) => x.token), [dflt]);

      // The option made secret-only at sentc: the setting public gives sentc's 203.
      await s.sim('POST', 'endpoint', { endpoint: option, kind: 'secret' });
      await s.restart(program, { [setting]: other });
      try {
        await s.clearLog();
        r = await call(s);
        const mine = (await s.upstream()).filter((x) => x.path === sentcPath);
        assert.deepEqual(mine.map((x) => x.token), [other]);
        if (other === 'public' && option !== 'user_exists') {
          assert.equal(r.status, 400, r.text);
          assert.deepEqual(r.json, NO_ACCESS);
        } else {
          assert.equal(r.status, 200, r.text);
        }
      } finally {
        await s.sim('POST', 'endpoint', { endpoint: option, kind: dflt });
        await s.restart(program);
      }
    });
  }
});

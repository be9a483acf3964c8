'use strict';
/*
 * The admin routes, sentc's forced calls, through nginx: the backend's
 * admin credential, the secret token upstream, the own data after the
 * deletes, and nginx serving them to loopback only.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const { start, waitFor, TOP, BUILD } = require('./harness');
const { answer } = require('../lib/common');

const NOBODY = '0b7c3f0e-6a63-4a0e-9d3e-2c1a7c0f9e11';

/* Every admin route: how to call it for user u (and group g), and what goes upstream. */
const ROUTES = [
  {
    name: 'PUT disable_otp', method: 'PUT', path: () => '/api/v1/user/forced/disable_otp',
    body: (u) => ({ user_identifier: u.name }), up: () => ['PUT', '/api/v1/user/forced/disable_otp'],
  },
  {
    name: 'DELETE disable_otp', method: 'DELETE', path: () => '/api/v1/user/forced/disable_otp',
    body: (u) => ({ user_identifier: u.name }), up: () => ['PUT', '/api/v1/user/forced/disable_otp'],
  },
  {
    name: 'DELETE sessions', method: 'DELETE', path: () => '/api/v1/user/forced/sessions',
    body: (u) => ({ user_identifier: u.name }), up: () => ['DELETE', '/api/v1/user/forced/sessions'],
  },
  {
    name: 'PUT delete', method: 'PUT', path: () => '/api/v1/user/forced/delete',
    body: (u) => ({ user_identifier: u.name }), up: () => ['PUT', '/api/v1/user/forced/delete'],
  },
  {
    name: 'DELETE delete/{id}', method: 'DELETE', path: (u) => `/api/v1/user/forced/delete/${u.id}`,
    up: (u) => ['DELETE', `/api/v1/user/forced/delete/${u.id}`],
  },
  {
    name: 'GET group member', method: 'GET', path: (u, g) => `/api/v1/group/forced/${g}/user/${u.id}`,
    up: (u, g) => ['GET', `/api/v1/group/forced/${g}/user/${u.id}`],
  },
];
const BY_IDENTIFIER = ROUTES.filter((r) => r.body);

/* A request from a given local address, on a connection of its own. */
function from(localAddress, port, method, urlPath, headers = {}, body) {
  return answer(http.request({
    host: '127.0.0.1', port, method, path: urlPath, headers, localAddress, agent: false,
  }), body === undefined ? undefined : JSON.stringify(body));
}

/* Lines the admin program logged for requests it answered. */
const adminLines = (s) => s.logRecords('admin').filter((r) => r.msg === 'request').length;

describe('admin routes', () => {
  let s; let token; let admin;
  const seen = []; // every response, to look for the token in

  /* An admin call through nginx; headers replace the admin credential. */
  async function call(method, urlPath, { body, headers = admin } = {}) {
    const r = await s.api(method, urlPath, { body, headers });
    seen.push(r.text, JSON.stringify([...r.headers]));
    return r;
  }
  const route = (rt, u, g, opts = {}) => call(rt.method, rt.path(u, g), { body: rt.body && rt.body(u), ...opts });
  const hasRow = (id) => s.rows(`SELECT 1 FROM users WHERE user_id = '${id}'`).length === 1;
  const atSentc = async (id) => (await s.sim('GET', 'state')).users.some((x) => x.user_id === id);

  before(async () => {
    s = await start();
    token = s.config.SENTC_BACKEND_ADMIN_TOKEN;
    assert.ok(token && token.length >= 32, 'make run\'s config has an admin token');
    admin = { authorization: `Bearer ${token}` };
  });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  /* Exactly one upstream call, the expected one, with the secret token and no Authorization. */
  async function relayedOnce(method, urlPath, body) {
    const up = await s.upstream();
    assert.equal(up.length, 1, JSON.stringify(up));
    assert.equal(up[0].method, method);
    assert.equal(up[0].path, urlPath);
    assert.equal(up[0].token, 'secret');
    assert.equal(up[0].auth, null, 'the caller\'s Authorization is not forwarded');
    if (body !== undefined) assert.deepEqual(up[0].body, body);
  }

  describe('success', () => {
    it('PUT disable_otp: relayed with the secret token, whatever the caller sent', async () => {
      const u = await s.user('otp');
      await s.clearLog();
      const r = await call('PUT', '/api/v1/user/forced/disable_otp', {
        body: { user_identifier: u.name, extra: 1 },
        headers: { ...admin, 'x-sentc-app-token': s.config.SENTC_PUBLIC_TOKEN },
      });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: true, result: 'Success' });
      await relayedOnce('PUT', '/api/v1/user/forced/disable_otp', { user_identifier: u.name });
    });

    it('DELETE disable_otp, as the seed documents it, is relayed as PUT', async () => {
      const u = await s.user('otp-del');
      await s.clearLog();
      const r = await call('DELETE', '/api/v1/user/forced/disable_otp', { body: { user_identifier: u.name } });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: true, result: 'Success' });
      await relayedOnce('PUT', '/api/v1/user/forced/disable_otp', { user_identifier: u.name });
    });

    it('DELETE sessions ends every session of that user, and only of that user', async () => {
      const u = await s.user('sess');
      const other = await s.user('sess-other');
      const mine = [await s.session(u.id), await s.session(u.id)];
      const theirs = await s.session(other.id);
      await s.clearLog();
      const r = await call('DELETE', '/api/v1/user/forced/sessions', { body: { user_identifier: u.name } });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: true, result: 'Success' });
      await relayedOnce('DELETE', '/api/v1/user/forced/sessions', { user_identifier: u.name });
      for (const m of mine) {
        assert.equal((await s.sim('POST', 'revoke', { refresh_token: m.refresh_token })).revoked, false);
      }
      assert.equal((await s.sim('POST', 'revoke', { refresh_token: theirs.refresh_token })).revoked, true);
    });

    it('DELETE sessions records the end of the user\'s cookie sessions first; without the store, nothing is sent', async () => {
      const u = await s.user('sess-store');
      await s.clearLog();
      const undo = s.failWrites('ended_users', 'INSERT');
      let r;
      try {
        r = await call('DELETE', '/api/v1/user/forced/sessions', { body: { user_identifier: u.name } });
      } finally {
        undo();
      }
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.err_code, 20020);
      assert.deepEqual(await s.upstream(), []);
      r = await call('DELETE', '/api/v1/user/forced/sessions', { body: { user_identifier: u.name } });
      assert.equal(r.status, 200, r.text);
      assert.equal(s.rows(`SELECT 1 FROM ended_users WHERE user_id = '${u.id}'`).length, 1);
      // A user without an own row: nothing to record, and sentc ends its tokens.
      const away = await s.user('sess-norow');
      s.sql(`DELETE FROM users WHERE user_id = '${away.id}'`);
      await s.clearLog();
      r = await call('DELETE', '/api/v1/user/forced/sessions', { body: { user_identifier: away.name } });
      assert.equal(r.status, 200, r.text);
      await relayedOnce('DELETE', '/api/v1/user/forced/sessions', { user_identifier: away.name });
      assert.equal(s.rows(`SELECT 1 FROM ended_users WHERE user_id = '${away.id}'`).length, 0);
    });

    it('PUT delete: sentc deletes the user by identifier, then its own data goes', async () => {
      const u = await s.user('del-ident', { name: 'Dee' });
      const other = await s.user('del-ident-other', { name: 'Oh' });
      assert.ok(hasRow(u.id));
      await s.clearLog();
      const r = await call('PUT', '/api/v1/user/forced/delete', { body: { user_identifier: u.name } });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: true, result: 'Success' });
      await relayedOnce('PUT', '/api/v1/user/forced/delete', { user_identifier: u.name });
      assert.equal(await atSentc(u.id), false);
      assert.equal(hasRow(u.id), false, 'own data removed');
      assert.ok(hasRow(other.id), 'nobody else\'s');
      assert.ok(await atSentc(other.id));
    });

    it('DELETE delete/{id}: sentc deletes the user by id, then its own data goes', async () => {
      const u = await s.user('del-id', { name: 'Idd' });
      const other = await s.user('del-id-other');
      await s.clearLog();
      const r = await call('DELETE', `/api/v1/user/forced/delete/${u.id}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: true, result: 'Success' });
      await relayedOnce('DELETE', `/api/v1/user/forced/delete/${u.id}`, null);
      assert.equal(await atSentc(u.id), false);
      assert.equal(hasRow(u.id), false);
      assert.ok(hasRow(other.id));
    });

    it('GET group member: sentc\'s answer, unchanged', async () => {
      const owner = await s.user('g-owner');
      const member = await s.user('g-member');
      const g = await s.group(owner);
      await s.sim('POST', 'group/member', { group_id: g, user_id: member.id, rank: 2 });
      await s.clearLog();
      const r = await call('GET', `/api/v1/group/forced/${g}/user/${member.id}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.status, true);
      const { joined_time: joined, ...rest } = r.json.result;
      assert.deepEqual(rest, { user_id: member.id, rank: 2, user_type: 0 });
      assert.equal(typeof joined, 'number');
      await relayedOnce('GET', `/api/v1/group/forced/${g}/user/${member.id}`, null);

      const o = await call('GET', `/api/v1/group/forced/${g.toUpperCase()}/user/${owner.id}`);
      assert.equal(o.status, 200, o.text);
      assert.equal(o.json.result.rank, 0, 'ids are matched without regard to case');
    });
  });

  describe("sentc's not-found passes through, nothing changes", () => {
    for (const rt of BY_IDENTIFIER) {
      it(`${rt.name}: an unknown identifier is sentc's 100`, async () => {
        const before = s.rows('SELECT count(*) AS n FROM users')[0].n;
        const r = await route(rt, { name: `nobody-${process.pid}` });
        assert.equal(r.status, 400, r.text);
        assert.deepEqual(r.json, { status: false, err_msg: 'User not found', err_code: 100 });
        assert.equal((await s.upstream()).length, 1);
        assert.equal(s.rows('SELECT count(*) AS n FROM users')[0].n, before);
      });
    }

    it('DELETE delete/{id}: an unknown id is sentc\'s 100', async () => {
      const before = s.rows('SELECT count(*) AS n FROM users')[0].n;
      const r = await call('DELETE', `/api/v1/user/forced/delete/${NOBODY}`);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.err_code, 100);
      assert.equal(s.rows('SELECT count(*) AS n FROM users')[0].n, before);
    });

    it('GET group member: not a member is sentc\'s 300', async () => {
      const owner = await s.user('g2-owner');
      const stranger = await s.user('g2-stranger');
      const g = await s.group(owner);
      for (const [gid, uid] of [[g, stranger.id], [NOBODY, owner.id]]) {
        const r = await call('GET', `/api/v1/group/forced/${gid}/user/${uid}`);
        assert.equal(r.status, 400, r.text);
        assert.equal(r.json.status, false);
        assert.equal(r.json.err_code, 300);
      }
    });
  });

  describe('no admin credential: 401, nothing sent upstream', () => {
    let u; let g; let bad;
    before(async () => {
      u = await s.user('victim', { keep: true });
      g = await s.group(u);
      const wrong = crypto.randomBytes(32).toString('base64url');
      bad = [
        ['no Authorization', {}],
        ['a wrong token', { authorization: `Bearer ${wrong}` }],
        ['a user\'s JWT', u.auth],
        ['the token with a character more', { authorization: `Bearer ${token}x` }],
        ['the token less its last character', { authorization: `Bearer ${token.slice(0, -1)}` }],
        ['the token without the Bearer scheme', { authorization: token }],
        ['the token as Basic', { authorization: `Basic ${token}` }],
        ['the secret token', { authorization: `Bearer ${s.config.SENTC_SECRET_TOKEN}` }],
        ['the token in the app token header', { 'x-sentc-app-token': token }],
      ];
    });

    for (const rt of ROUTES) {
      it(rt.name, async () => {
        for (const [what, headers] of bad) {
          const r = await route(rt, u, g, { headers });
          assert.equal(r.status, 401, `${what}: ${r.text}`);
          assert.deepEqual(r.json, {
            status: false, err_msg: 'The admin credential is missing or wrong', err_code: 20032,
          }, what);
        }
        assert.deepEqual(await s.upstream(), []);
        assert.ok(await atSentc(u.id));
        assert.ok(hasRow(u.id));
      });
    }
  });

  describe('bad input: a clear 4xx, nothing sent upstream', () => {
    const ident = (v) => JSON.stringify({ user_identifier: v });
    const bodies = [
      ['an empty body', '', 400, 20006],
      ['a body that is not JSON', '{"user_identifier": ', 400, 20006],
      ['a JSON array', '[{"user_identifier": "x"}]', 400, 20007],
      ['no user_identifier', '{"identifier": "x"}', 400, 20034],
      ['a number', ident(42), 400, 20034],
      ['null', ident(null), 400, 20034],
      ['an object', JSON.stringify({ user_identifier: { a: 1 } }), 400, 20034],
      ['an empty string', ident(''), 400, 20034],
      ['513 bytes', ident('x'.repeat(513)), 400, 20034],
      ['a NUL', ident('a\u0000b'), 400, 20034],
      ['a newline', ident('a\nb'), 400, 20034],
      ['an escape', ident('a\u001b[2Jb'), 400, 20034],
      ['a DEL', ident('a\u007fb'), 400, 20034],
      ['a C1 control', ident('a\u0085b'), 400, 20034],
      ['a body over 1 MiB', ident('x'.repeat(1024 * 1024)), 413, 20005],
    ];
    for (const rt of BY_IDENTIFIER) {
      it(`${rt.name}: user_identifier`, async () => {
        for (const [what, body, status, code] of bodies) {
          const r = await call(rt.method, rt.path(), { body });
          assert.equal(r.status, status, `${what}: ${r.text}`);
          assert.equal(r.json.status, false, what);
          assert.equal(r.json.err_code, code, what);
          if (code === 20034) assert.match(r.json.err_msg, /user_identifier/, what);
        }
        assert.deepEqual(await s.upstream(), []);
        // At the limit, the identifier goes on (and sentc knows nobody by it).
        const r = await call(rt.method, rt.path(), { body: ident('é'.repeat(256)) });
        assert.equal(r.json.err_code, 100, r.text);
      });
    }

    it('ids in the path that are not UUIDs', async () => {
      const paths = [
        ['DELETE', '/api/v1/user/forced/delete/not-a-uuid'],
        ['DELETE', `/api/v1/user/forced/delete/${NOBODY}0`],
        ['GET', `/api/v1/group/forced/${NOBODY}/user/123`],
        ['GET', `/api/v1/group/forced/x/user/${NOBODY}`],
      ];
      for (const [method, p] of paths) {
        const r = await call(method, p);
        assert.equal(r.status, 400, `${p}: ${r.text}`);
        assert.equal(r.json.err_code, 20004, p);
      }
      const r = await s.raw('DELETE', '/api/v1/user/forced/delete/%2e%2e', admin);
      assert.equal(r.status, 400);
      assert.equal(r.json.err_code, 20004);
      assert.deepEqual(await s.upstream(), []);
    });

    it('the wrong method: 405 with Allow', async () => {
      const cases = [
        ['GET', '/api/v1/user/forced/disable_otp', 'PUT, DELETE'],
        ['POST', '/api/v1/user/forced/sessions', 'DELETE'],
        ['DELETE', '/api/v1/user/forced/delete', 'PUT'],
        ['PUT', `/api/v1/user/forced/delete/${NOBODY}`, 'DELETE'],
        ['DELETE', `/api/v1/group/forced/${NOBODY}/user/${NOBODY}`, 'GET, HEAD'],
      ];
      for (const [method, p, allow] of cases) {
        const r = await call(method, p, { body: method === 'GET' ? undefined : { user_identifier: 'x' } });
        assert.equal(r.status, 405, `${method} ${p}`);
        assert.equal(r.headers.get('allow'), allow);
        assert.equal(r.json.err_code, 20002);
      }
      assert.deepEqual(await s.upstream(), []);
    });
  });

  describe('the deletes and the own data', () => {
    const deletes = ROUTES.filter((r) => /delete/.test(r.name));

    for (const rt of deletes) {
      it(`${rt.name}: a sentc failure keeps the own data`, async () => {
        const u = await s.user('keep', { keep: 1 });
        const [, upPath] = rt.up(u);
        // sentc's own envelope of a server error; a lost answer whose
        // finishing delete fails too (sb_unsure.h).
        const finish = `/api/v1/user/forced/delete/${u.id}`;
        for (const [faults, status, code] of [[[['5xx', 1]], 502, 20025],
          [[['garbage', 1], ['garbage', 1, finish]], 502, 20010],
          [[['close', 2], ['close', 2, finish]], 502, 20009]]) {
          for (const [mode, count, p = upPath] of faults) await s.sim('POST', 'fail', { path: p, mode, count });
          const r = await route(rt, u);
          await s.sim('DELETE', 'fail');
          s.sql('DELETE FROM unsure');
          assert.equal(r.status, status, `${faults}: ${r.text}`);
          assert.equal(r.json.err_code, code, `${faults}`);
          assert.ok(hasRow(u.id), `${faults}: own data kept`);
        }
        assert.deepEqual(s.rows(`SELECT user_data FROM users WHERE user_id = '${u.id}'`).map((x) => JSON.parse(x.user_data)), [{ keep: 1 }]);
        assert.ok(await atSentc(u.id));
      });

      it(`${rt.name}: a lost answer is finished by id, and the own data goes`, async () => {
        // One close: libcurl may retry it on a new connection, and
        // either way the user is gone.
        for (const [mode, count] of [['garbage', 1], ['close', 1]]) {
          const u = await s.user('lost');
          const [, upPath] = rt.up(u);
          await s.sim('POST', 'fail', { path: upPath, mode, count });
          const r = await route(rt, u);
          await s.sim('DELETE', 'fail');
          assert.equal(r.status, 200, `${mode}: ${r.text}`);
          assert.deepEqual(r.json, { status: true, result: 'Success' });
          assert.equal(hasRow(u.id), false, mode);
          assert.equal(await atSentc(u.id), false, mode);
        }
      });

      it(`${rt.name}: nothing is sent while the own store cannot answer`, async () => {
        const u = await s.user('store-down');
        await s.clearLog();
        s.sql('ALTER TABLE users RENAME TO users_away');
        let r;
        try {
          r = await route(rt, u);
        } finally {
          s.sql('ALTER TABLE users_away RENAME TO users');
        }
        assert.equal(r.status, 503, r.text);
        assert.equal(r.json.err_code, 20020);
        assert.deepEqual(await s.upstream(), []);
        assert.ok(await atSentc(u.id));
        assert.ok(hasRow(u.id));
      });

      it(`${rt.name}: if the own data cannot go once sentc deleted the user, 20037 says so, and a repeated delete by id finishes`, async () => {
        const u = await s.user('left', { left: 1 });
        const undo = s.failWrites('users', 'DELETE');
        let r;
        try {
          r = await route(rt, u);
        } finally {
          undo();
        }
        assert.equal(r.status, 500, r.text);
        assert.equal(r.json.status, false);
        assert.equal(r.json.err_code, 20037);
        assert.ok(r.json.err_msg.includes(`DELETE /api/v1/user/forced/delete/${u.id}`), r.json.err_msg);
        assert.equal(await atSentc(u.id), false, 'the user is gone at sentc');
        assert.ok(hasRow(u.id), 'its own data is left over');
        assert.match(s.log(), new RegExp(`INCONSISTENT: user ${u.id} is gone at sentc`));

        const again = await call('DELETE', `/api/v1/user/forced/delete/${u.id}`);
        assert.equal(again.status, 400, again.text);
        assert.equal(again.json.err_code, 100, 'sentc\'s answer passes through');
        assert.equal(hasRow(u.id), false, 'and the left-over data is gone');
      });
    }

    it('a user sentc no longer has: by id its own data goes, by identifier it stays', async () => {
      // The user deletes the account at sentc directly, not through the backend.
      const u = await s.user('gone', { g: 1 });
      const res = await fetch(`${s.simBase}/api/v1/user`, {
        method: 'DELETE',
        headers: { 'x-sentc-app-token': s.config.SENTC_SECRET_TOKEN, authorization: `Bearer ${u.jwt}` },
      });
      assert.equal(res.status, 200);
      assert.ok(hasRow(u.id));

      // By identifier: the identifier may belong to someone else by now.
      let r = await call('PUT', '/api/v1/user/forced/delete', { body: { user_identifier: u.name } });
      assert.equal(r.json.err_code, 100);
      assert.ok(hasRow(u.id));
      // By id: nobody else can have it.
      r = await call('DELETE', `/api/v1/user/forced/delete/${u.id}`);
      assert.equal(r.json.err_code, 100);
      assert.equal(hasRow(u.id), false);
    });
  });

  describe('nginx serves them to loopback only', () => {
    it('from 127.0.0.2, every admin route is a 403 envelope from nginx, and never reaches the program', async () => {
      const u = await s.user('net');
      const g = await s.group(u);
      await s.clearLog();
      const lines = adminLines(s);
      for (const rt of ROUTES) {
        const r = await from('127.0.0.2', s.port, rt.method, rt.path(u, g),
          { ...admin, 'content-type': 'application/json' }, rt.body && rt.body(u));
        seen.push(r.text);
        assert.equal(r.status, 403, `${rt.name}: ${r.text}`);
        assert.match(r.headers['content-type'], /^application\/json/);
        assert.deepEqual(r.json, {
          status: false, err_msg: 'The admin routes are not served to this address', err_code: 20036,
        });
      }
      assert.deepEqual(await s.upstream(), []);
      assert.equal(adminLines(s), lines, 'the admin program saw none of them');
      assert.ok(await atSentc(u.id));
    });

    it('from 127.0.0.2, the other routes are served as usual', async () => {
      const h = await from('127.0.0.2', s.port, 'GET', '/backend/health');
      assert.equal(h.status, 200, h.text);
      const e = await from('127.0.0.2', s.port, 'POST', '/api/v1/exists',
        { 'x-sentc-app-token': s.config.SENTC_PUBLIC_TOKEN, 'content-type': 'application/json' },
        { user_identifier: 'someone' });
      assert.equal(e.status, 200, e.text);
      assert.equal(e.json.result.available, true);
    });

    it('from 127.0.0.1, the same request is served', async () => {
      const u = await s.user('net-ok');
      const r = await from('127.0.0.1', s.port, 'PUT', '/api/v1/user/forced/disable_otp',
        { ...admin, 'content-type': 'application/json' }, { user_identifier: u.name });
      assert.equal(r.status, 200, r.text);
    });
  });

  it('never puts the admin token in a response or in backend.log', () => {
    assert.ok(seen.length > 100);
    for (const text of seen) assert.ok(!text.includes(token), text);
    const log = s.log();
    assert.ok(adminLines(s) > 50, 'the admin program logged its requests');
    assert.ok(!log.includes(token), 'the admin token is in backend.log');
    assert.ok(!log.includes(s.config.SENTC_SECRET_TOKEN), 'the secret token is in backend.log');
  });
});

describe('admin routes without SENTC_BACKEND_ADMIN_TOKEN', () => {
  let s;
  before(async () => { s = await start({ SENTC_BACKEND_ADMIN_TOKEN: '' }); });
  after(() => s.stop());

  it('are closed: 403 with any credential or none, nothing sent upstream', async () => {
    const u = await s.user('closed', { c: 1 });
    const g = await s.group(u);
    await s.clearLog();
    const file = s.config.SENTC_BACKEND_ADMIN_TOKEN;
    for (const rt of ROUTES) {
      for (const headers of [{ authorization: `Bearer ${file}` }, {}, u.auth]) {
        const r = await s.api(rt.method, rt.path(u, g), { body: rt.body && rt.body(u), headers });
        assert.equal(r.status, 403, `${rt.name}: ${r.text}`);
        assert.equal(r.json.status, false);
        assert.equal(r.json.err_code, 20033);
        assert.match(r.json.err_msg, /no admin credential is configured/);
      }
    }
    assert.deepEqual(await s.upstream(), []);
    assert.equal(s.rows(`SELECT 1 FROM users WHERE user_id = '${u.id}'`).length, 1);
  });

  it('and the rest of the backend is up', async () => {
    const r = await s.api('GET', '/backend/health');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.result.programs.admin, true);
  });
});

describe('admin routes opened to another network, as docs/DEPLOY.md shows', () => {
  let s;
  before(async () => { s = await start(); });
  after(() => s.stop());

  it('an allow line before "deny all" and an nginx reload let that range in, and no other', async () => {
    const admin = { authorization: `Bearer ${s.config.SENTC_BACKEND_ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const u = await s.user('lan');
    const otp = (addr) => from(addr, s.port, 'PUT', '/api/v1/user/forced/disable_otp', admin, { user_identifier: u.name });
    assert.equal((await otp('127.0.0.3')).status, 403, 'closed before');

    // docs/DEPLOY.md's edit, with 127.0.0.2/31 standing in for a private range.
    const conf = path.join(s.dir, 'sentc-backend.conf');
    const text = fs.readFileSync(conf, 'utf8');
    // Two deny lines: the admin location's first, then the metrics location's.
    assert.equal(text.split('deny all;').length, 3, 'a deny line in the admin and the metrics locations');
    assert.ok(text.indexOf('deny all;') > text.indexOf('location ~ ^/api/v1/(user/forced/'), 'the first is the admin location\'s');
    assert.ok(text.indexOf('deny all;') < text.indexOf('location = /backend/metrics'));
    fs.writeFileSync(conf, text.replace('deny all;', 'allow 127.0.0.2/31;\n\tdeny all;'));
    const master = fs.readFileSync(path.join(s.dir, 'nginx.pid'), 'utf8').trim();
    const workers = () => execFileSync('pgrep', ['-P', master], { encoding: 'utf8' }).trim().split('\n').map(Number);
    const old = workers();
    execFileSync('nginx', ['-p', s.dir, '-c', path.join(s.dir, 'nginx.conf'), '-e', path.join(s.dir, 'nginx-error.log'), '-s', 'reload']);
    // Until the old workers are gone, one of them may take a connection.
    const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
    await waitFor(() => !old.some(alive), 'the old nginx workers to exit', { detail: () => `alive: ${old.filter(alive).join(' ')}` });
    assert.ok(workers().length > 0, 'new workers run');

    const r = await otp('127.0.0.3');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { status: true, result: 'Success' });
    assert.equal((await otp('127.0.0.2')).status, 200);
    assert.equal((await otp('127.0.0.1')).status, 200, 'loopback still');
    const out = await otp('127.0.0.4');
    assert.equal(out.status, 403);
    assert.equal(out.json.err_code, 20036);
    // The credential is still required from the opened range.
    const noCred = await from('127.0.0.3', s.port, 'PUT', '/api/v1/user/forced/disable_otp',
      { 'content-type': 'application/json' }, { user_identifier: u.name });
    assert.equal(noCred.status, 401);
    assert.equal(noCred.json.err_code, 20032);
  });
});

describe('start-up refuses a weak SENTC_BACKEND_ADMIN_TOKEN, naming the key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-admin-cfg-'));
  const fixture = path.join(TOP, 'tests/integration/fixtures/dev.env');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const check = (program, value) => spawnSync(path.join(TOP, BUILD, 'bin', program), ['-t', '-c', fixture], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, SENTC_BACKEND_DB: path.join(dir, 'db'), SENTC_BACKEND_ADMIN_TOKEN: value },
  });

  const weak = [
    ['shorter than 32 characters', 'Qz7f2KpX9wLm4Rt8Vb1Nc6Hy3Jd5Gs0'],
    ['with a space', 'Qz7f2KpX9wLm4Rt8 Vb1Nc6Hy3Jd5Gs0E-x'],
    ['one character repeated', 'a'.repeat(48)],
  ];
  for (const [what, value] of weak) {
    it(what, () => {
      for (const program of ['admin', 'register']) {
        const r = check(program, value);
        assert.equal(r.status, 78, `${program}: ${r.stderr}`);
        assert.match(r.stderr, /SENTC_BACKEND_ADMIN_TOKEN/);
        assert.ok(!r.stderr.includes(value), 'the value is not in the message');
      }
    });
  }

  it('accepts a random one, and none', () => {
    for (const value of [crypto.randomBytes(32).toString('base64'), '']) {
      const r = check('admin', value);
      assert.equal(r.status, 0, r.stderr);
    }
  });
});

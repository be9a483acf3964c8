'use strict';
/*
 * PostgreSQL only: what makes several hosts one (docs/SCALING.md), seen
 * from one stack. Each program's listener (lib/sb_notify.h) is told of
 * every end of access through LISTEN/NOTIFY and drops the cached answers
 * naming it; while its connection is down the program uses no cached
 * answer, and drops them all when it listens again. A program started
 * while the server refuses connections serves, says it is not ready, and
 * becomes ready by itself. The connections a stack opens are bounded by
 * its configuration, whatever the load.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { spawnSync } = require('node:child_process');

const { start, psql, waitFor, PG, TOP, BUILD, WAIT_MS } = require('./harness');

const WORKERS = 2;
const DB_CONNECTIONS = 2;

describe('PostgreSQL: ends of access told to every program, a server that comes and goes', { skip: !PG && 'needs SB_TEST_PG' }, () => {
  let s; let admin; let owner; let member;

  before(async () => {
    s = await start({
      SENTC_BACKEND_ACCESS_CACHE_TTL: '300',
      SENTC_BACKEND_WORKERS: String(WORKERS),
      SENTC_BACKEND_DB_CONNECTIONS: String(DB_CONNECTIONS),
    });
    admin = { authorization: `Bearer ${s.config.SENTC_BACKEND_ADMIN_TOKEN}` };
    owner = await s.user('owner');
    member = await s.user('member');
  });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  const light = (gid, u) => s.api('GET', `/api/v1/group/${gid}/light`, { headers: u.auth });
  const lightCalls = async () => (await s.upstream()).filter((x) => /\/light$/.test(x.path)).length;
  const allow = (yes) => psql('postgres', `ALTER DATABASE ${s.pgdb} ALLOW_CONNECTIONS ${yes}`);
  const listeners = () => s.rows(`SELECT pid FROM pg_stat_activity WHERE datname = '${s.pgdb}' `
    + "AND application_name = 'sentc-backend-listen'").map((x) => x.pid);
  const lines = (program, re) => s.logRecords(program).filter((r) => re.test(r.msg)).length;
  // The programs that use the store; of them, those that cache group access listen.
  const dbPrograms = () => fs.readdirSync(path.join(TOP, BUILD, 'bin')).filter((n) => !['metrics', 'register-device', 'verify-login'].includes(n));
  const listenPrograms = () => ['group', 'group-data', 'items'];

  async function cachedGroup() {
    const gid = await s.group(owner);
    await s.sim('POST', 'group/member', { group_id: gid, user_id: member.id, rank: 3 });
    for (const u of [owner, member]) assert.equal((await light(gid, u)).status, 200);
    await s.clearLog();
    assert.equal((await light(gid, member)).status, 200);
    assert.equal(await lightCalls(), 0, 'cached');
    return gid;
  }

  it('has one listener per program that caches group access, each listening', async () => {
    await waitFor(() => listeners().length === listenPrograms().length, 'a listener per program',
      { detail: () => `${listeners().length} listening of ${listenPrograms().length}` });
    for (const p of listenPrograms()) assert.ok(lines(p, /^invalidation: listening/) >= 1, `${p} listens`);
    for (const p of dbPrograms().filter((x) => !listenPrograms().includes(x))) assert.equal(lines(p, /^invalidation: listening/), 0, `${p} does not listen`);
  });

  it('tells the group program of a kick through the admin program: its cached answers naming the member go', async () => {
    const gid = await cachedGroup();
    const before = lines('group', new RegExp(`^invalidation: 1 cached access answers naming ${member.id} dropped`));
    const r = await s.api('DELETE', `/api/v1/group/forced/${owner.id}/${gid}/kick/${member.id}`, { headers: admin });
    assert.equal(r.status, 200, r.text);
    await waitFor(() => lines('group', new RegExp(`^invalidation: 1 cached access answers naming ${member.id} dropped`)) > before,
      'the group program to drop the kicked member\'s cached answer');
    const a = await light(gid, member);
    assert.equal(a.json.err_code, 310, a.text);
    // The owner's answer does not name the member: it stays cached.
    await s.clearLog();
    assert.equal((await light(gid, owner)).status, 200);
    assert.equal(await lightCalls(), 0, 'the owner\'s answer is still cached');
  });

  it('while its listening connection is down, uses no cached answer; once back, drops what it had', async () => {
    await waitFor(() => listeners().length === listenPrograms().length, 'every listener back');
    const gid = await cachedGroup();
    const lost = lines('group', /^invalidation: the listening connection was lost/);
    const back = lines('group', /^invalidation: listening/);
    allow(false);
    try {
      // Only the listeners' connections end: the workers' stay, and serve.
      psql('postgres', `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = '${s.pgdb}' `
        + "AND application_name = 'sentc-backend-listen'");
      await waitFor(() => lines('group', /^invalidation: the listening connection was lost/) > lost, 'the group program to see its listener lost');
      await waitFor(() => lines('group', /^database: cannot be reached .*try 1, next in 1 s/) > 0, 'a first try to listen again, refused');
      await s.clearLog();
      for (let i = 0; i < 3; i++) assert.equal((await light(gid, member)).status, 200);
      assert.equal(await lightCalls(), 3, 'each request asked sentc: nothing cached is used while deaf');
    } finally {
      allow(true);
    }
    await waitFor(() => lines('group', /^invalidation: listening/) > back, 'the group program to listen again');
    await s.clearLog();
    for (let i = 0; i < 3; i++) assert.equal((await light(gid, member)).status, 200);
    assert.equal(await lightCalls(), 1, 'what was cached before is dropped; the new answer is cached');
  });

  it('starts while the server refuses connections: serves, alive but not ready, logs each try, ready once it answers', async () => {
    allow(false);
    let r;
    try {
      psql('postgres', `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = '${s.pgdb}'`);
      await s.restart('health');
      r = await s.api('GET', '/backend/health');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.result.database, false);
      r = await s.api('GET', '/backend/ready');
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.err_code, 20026);
      assert.ok(lines('health', /^database: not reachable at start; serving anyway/) >= 1);
      // Each try is logged, with the time to the next.
      await waitFor(() => lines('health', /^database: cannot be reached .*try 2, next in 2 s/) >= 1, 'a second try, logged');
      r = await s.api('GET', '/backend/me', { headers: member.auth });
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.err_code, 20020);
    } finally {
      allow(true);
    }
    await waitFor(async () => (await s.api('GET', '/backend/ready')).status === 200, '/backend/ready once the server answers');
    await waitFor(() => lines('health', /^database: reachable \(try \d+\)/) >= 1, 'the waiter to see the server answer');
    r = await s.api('GET', '/backend/me', { headers: member.auth });
    assert.equal(r.status, 200, r.text);
  });

  it('still refuses to start on a store it reaches but cannot use (a newer schema): exit 78, no waiting', () => {
    const cfg = fs.readFileSync(path.join(s.dir, 'config.path'), 'utf8').trim();
    const [{ version }] = s.rows('SELECT version FROM schema_version');
    s.sql('UPDATE schema_version SET version = 99');
    try {
      const r = spawnSync(path.join(TOP, BUILD, 'bin/me'), ['-c', cfg, '-s', path.join(s.dir, 'never.sock')], {
        encoding: 'utf8', timeout: WAIT_MS, env: { PATH: process.env.PATH, SENTC_BACKEND_DB: s.db, SENTC_BACKEND_USER: process.env.SENTC_BACKEND_USER || '' },
      });
      assert.equal(r.status, 78, r.stderr);
      assert.match(r.stderr, /schema version 99 is newer than this program's/);
    } finally {
      s.sql(`UPDATE schema_version SET version = ${Number(version)}`);
    }
  });

  it('opens no more connections than its configuration says, whatever the load', async () => {
    await waitFor(() => listeners().length === listenPrograms().length, 'every listener back');
    const bound = dbPrograms().length * WORKERS * DB_CONNECTIONS + listenPrograms().length;
    const count = () => Number(psql('postgres', `SELECT count(*) FROM pg_stat_activity WHERE datname = '${s.pgdb}'`));
    let most = 0;
    for (let round = 0; round < 5; round++) {
      const load = [];
      for (let i = 0; i < 60; i++) {
        load.push(s.api('PUT', '/backend/me', { body: { i }, headers: member.auth }));
        load.push(s.api('GET', '/backend/me', { headers: member.auth }));
        load.push(s.api('GET', '/backend/health'));
      }
      most = Math.max(most, count());
      const rs = await Promise.all(load);
      for (const x of rs) assert.equal(x.status, 200, x.text);
      most = Math.max(most, count());
    }
    assert.ok(most <= bound, `at most ${bound} connections (programs × workers × connections + listeners); seen ${most}`);
    // The "me" program's own share: at most workers × connections, however many requests wait.
    const perApp = s.rows(`SELECT application_name AS a, count(*)::int AS n FROM pg_stat_activity WHERE datname = '${s.pgdb}' GROUP BY 1`);
    const listen = perApp.find((x) => x.a === 'sentc-backend-listen');
    assert.equal(listen && listen.n, listenPrograms().length, `one listener per program that caches access: ${JSON.stringify(perApp)}`);
  });
});

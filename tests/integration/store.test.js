'use strict';
/*
 * The own store through the routes: what must hold on SQLite and on
 * PostgreSQL alike, then what only a database server brings (connections
 * that break, a server that refuses them), in the PostgreSQL pass.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const { start, registerInput, psql, PG, TOP, BUILD } = require('./harness');

let seq = 0;

/* libpq's keyword=value form of database db on the test server. */
function keywordSpec(db) {
  const q = (v) => `'${String(v).replace(/[\\']/g, '\\$&')}'`;
  return `host=${q(PG.host)} port=${PG.port} user=${q(PG.user)} password=${q(PG.password)} dbname=${q(db)}`;
}

/*
 * A program's start-up check (-t) with SENTC_BACKEND_DB set to db, run
 * in a fresh working directory under umask mask: the result and the
 * directory.
 */
function checkIn(cfg, db, mask = 0o022) {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-cwd-'));
  fs.chmodSync(cwd, 0o711);
  const r = spawnSync('/bin/sh', ['-c', `umask ${mask.toString(8)}; exec "$0" -t -c "$1"`,
    path.join(TOP, BUILD, 'bin/me'), cfg], {
    encoding: 'utf8', cwd, env: { PATH: process.env.PATH, SENTC_BACKEND_USER: process.env.SENTC_BACKEND_USER, SENTC_BACKEND_DB: db },
  });
  return { ...r, cwd };
}

describe('the store, on either database', () => {
  let s; let owner;
  before(async () => {
    s = await start();
    owner = await s.user('store');
  });
  after(() => s.stop());

  it('stores values that look like SQL as they are', async () => {
    const name = `o'brien"; DROP TABLE users; --${process.pid}`;
    const data = { q: "'; DELETE FROM users WHERE '1'='1", b: 'x\\y', u: 'é\u0000' };
    const { user_id } = await s.register(name, data);
    const { jwt } = await s.session(user_id);
    const r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${jwt}` } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.result, data);
    const rows = s.rows(`SELECT identifier FROM users WHERE user_id = '${user_id}'`);
    assert.deepEqual(rows.map((x) => x.identifier), [name]);
    assert.ok(s.rows('SELECT count(*) AS n FROM users')[0].n >= 2, 'the users table is still there');
  });

  it('deletes a group\'s row and items together, or leaves both', async () => {
    const gid = await s.group(owner, { t: 1 });
    for (let i = 0; i < 3; i++) {
      const r = await s.api('PUT', `/backend/groups/${gid}/items/${crypto.randomUUID()}`, { body: { data: `c${i}` }, headers: owner.auth });
      assert.equal(r.status, 200, r.text);
    }
    // The second delete of the transaction fails: the first is undone.
    const undo = s.failWrites('groups', 'DELETE');
    try {
      const r = await s.api('DELETE', `/api/v1/group/${gid}`, { headers: owner.auth });
      assert.equal(r.status, 200, 'sentc deleted the group');
    } finally {
      undo();
    }
    assert.equal(s.rows(`SELECT 1 FROM groups WHERE group_id = '${gid}'`).length, 1);
    assert.equal(s.rows(`SELECT 1 FROM items WHERE group_id = '${gid}'`).length, 3, 'no item deleted without its group');
    assert.match(s.log(), new RegExp(`group ${gid} deleted at sentc; its own data is left over`));
  });

  it('refuses to start on a schema newer than the programs know', () => {
    const cfg = fs.readFileSync(path.join(s.dir, 'config.path'), 'utf8').trim();
    const run = () => spawnSync(path.join(TOP, BUILD, 'bin/me'), ['-t', '-c', cfg], {
      encoding: 'utf8', env: { PATH: process.env.PATH, SENTC_BACKEND_DB: s.db },
    });
    assert.equal(run().status, 0, run().stderr);
    s.sql('UPDATE schema_version SET version = 99');
    try {
      const r = run();
      assert.equal(r.status, 78);
      assert.match(r.stderr, /SENTC_BACKEND_DB .*schema version 99 is newer than this program's 6/);
    } finally {
      s.sql('UPDATE schema_version SET version = 6');
    }
  });
});

describe('SENTC_BACKEND_DB: a SQLite path, or PostgreSQL in either of libpq\'s forms', () => {
  let s;
  before(async () => { s = await start(); });
  after(() => s.stop());
  const cfg = () => fs.readFileSync(path.join(s.dir, 'config.path'), 'utf8').trim();

  it('refuses a keyword=value string libpq cannot read, clearly, without its password, and makes no file', () => {
    const password = `pw-${crypto.randomBytes(12).toString('hex')}`;
    for (const db of [
      `host=127.0.0.1 password=${password} dbname`,
      `host=127.0.0.1 password='${password} dbname=sentc`,
      `host=127.0.0.1 passwort=${password} dbname=sentc`,
      `./sentc=${password}.db`,
    ]) {
      const r = checkIn(cfg(), db);
      try {
        assert.equal(r.status, 78, `${db}: ${r.stderr}`);
        assert.match(r.stderr, /config: SENTC_BACKEND_DB .*not a valid PostgreSQL connection string/, db);
        assert.ok(!r.stderr.includes(password), `the password in: ${r.stderr}`);
        assert.deepEqual(fs.readdirSync(r.cwd), [], `files made for ${db}`);
      } finally {
        fs.rmSync(r.cwd, { recursive: true, force: true });
      }
    }
  });

  it('a SQLite file it makes, and its -wal and -shm files, are its owner\'s only, whatever the umask', { skip: PG ? 'the PostgreSQL pass' : false }, async () => {
    // The stack's own store, made by the programs at start, and written to.
    await s.user('mode');
    for (const f of ['', '-wal', '-shm']) {
      assert.equal(fs.statSync(`${s.db}${f}`).mode & 0o777, 0o600, `backend.db${f}`);
    }
    for (const mask of [0, 0o022, 0o077]) {
      const r = checkIn(cfg(), 'fresh.db', mask);
      try {
        assert.equal(r.status, 0, r.stderr);
        assert.equal(fs.statSync(path.join(r.cwd, 'fresh.db')).mode & 0o777, 0o600, `umask ${mask.toString(8)}`);
      } finally {
        fs.rmSync(r.cwd, { recursive: true, force: true });
      }
    }
  });
});

describe('PostgreSQL named in libpq\'s keyword=value form', { skip: !PG && 'the SQLite pass' }, () => {
  let s;
  const db = `sb_test_kw_${process.pid}_${++seq}`;
  before(async () => {
    psql('postgres', `CREATE DATABASE ${db}`);
    s = await start({ SENTC_BACKEND_DB: keywordSpec(db) });
  });
  after(() => {
    const log = s.log();
    s.stop();
    psql('postgres', `DROP DATABASE ${db} WITH (FORCE)`);
    assert.ok(!log.includes(PG.password), 'the database password in backend.log');
  });

  it('is PostgreSQL: the programs store there, and -t passes making no file', async () => {
    const u = await s.user('kw', { kw: true });
    const r = await s.api('GET', '/backend/me', { headers: u.auth });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.result, { kw: true });
    assert.deepEqual(JSON.parse(psql(db, `SELECT user_data FROM users WHERE user_id = '${u.id}'`)), { kw: true }, 'the row is in that database');
    const c = checkIn(fs.readFileSync(path.join(s.dir, 'config.path'), 'utf8').trim(), keywordSpec(db));
    try {
      assert.equal(c.status, 0, c.stderr);
      assert.deepEqual(fs.readdirSync(c.cwd), []);
      assert.ok(!c.stderr.includes(PG.password));
    } finally {
      fs.rmSync(c.cwd, { recursive: true, force: true });
    }
  });
});

describe('PostgreSQL: connections that break, a server that refuses them', { skip: !PG && 'the SQLite pass' }, () => {
  let s; let u;
  before(async () => {
    s = await start();
    u = await s.user('pg', { v: 1 });
  });
  after(() => s.stop());

  /* The backend's server connections to its database, by server pid. */
  const conns = () => s.rows(`SELECT pid FROM pg_stat_activity WHERE datname = '${s.pgdb}' `
    + "AND application_name = 'sentc-backend'").map((x) => x.pid).sort();
  // From the server's own database: the backend's may refuse connections.
  const kill = () => psql('postgres', `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = '${s.pgdb}'`);
  const allow = (yes) => psql('postgres', `ALTER DATABASE ${s.pgdb} ALLOW_CONNECTIONS ${yes}`);

  it('keeps one connection per worker across requests', async () => {
    for (let i = 0; i < 20; i++) {
      assert.equal((await s.api('GET', '/backend/me', { headers: u.auth })).status, 200);
      assert.equal((await s.api('GET', '/backend/health')).status, 200);
    }
    const first = conns();
    assert.ok(first.length >= 2, `connections: ${first}`);
    for (let i = 0; i < 40; i++) {
      assert.equal((await s.api('PUT', '/backend/me', { body: { v: i }, headers: u.auth })).status, 200);
      assert.equal((await s.api('GET', '/backend/me', { headers: u.auth })).status, 200);
    }
    const second = conns();
    for (const pid of first) assert.ok(second.includes(pid), `connection ${pid} was replaced: ${first} → ${second}`);
    // At most one per worker: 2 workers per program.
    const programs = fs.readdirSync(path.join(TOP, BUILD, 'bin')).length;
    assert.ok(second.length <= 2 * programs, `connections: ${second}`);
  });

  it('runs a request again on a fresh connection when its connection broke', async () => {
    await s.api('PUT', '/backend/me', { body: { v: 'before' }, headers: u.auth });
    for (const [method, body] of [['GET'], ['PUT', { v: 'after' }], ['GET']]) {
      kill();
      const r = await s.api(method, '/backend/me', { body, headers: u.auth });
      assert.equal(r.status, 200, `${method}: ${r.text}`);
    }
    assert.deepEqual((await s.api('GET', '/backend/me', { headers: u.auth })).json.result, { v: 'after' });
    kill();
    const name = `pg-again-${process.pid}`;
    await s.register(name, { again: true });
    assert.equal(s.rows(`SELECT 1 FROM users WHERE identifier = '${name}'`).length, 1);
    assert.match(s.log(), /database: user_data: connection lost \(.*\); running it once more on a fresh one/);
    assert.match(s.log(), /database: reconnected/);
  });

  it('answers 503 while the server refuses connections, and serves again after', async () => {
    allow(false);
    try {
      kill();
      let r = await s.api('GET', '/backend/me', { headers: u.auth });
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.err_code, 20020);
      // Alive, and says the database is down; not ready.
      r = await s.api('GET', '/backend/health');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.result.database, false);
      r = await s.api('GET', '/backend/ready');
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.err_code, 20026);
      assert.match(r.json.err_msg, /database unavailable/);
      // Register asks the store first (for a lost register of the name,
      // lib/sb_unsure.h): nothing reaches sentc.
      await s.clearLog();
      const name = `pg-down-${process.pid}`;
      r = await s.api('POST', '/api/v1/register', { body: { ...registerInput(name), user_data: { a: 1 } } });
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.err_code, 20020);
      assert.deepEqual(await s.upstream(), []);
      const state = await s.sim('GET', 'state');
      assert.ok(!state.users.some((x) => x.device_identifier === name), 'no sentc user left behind');
    } finally {
      allow(true);
    }
    let r = await s.api('GET', '/backend/me', { headers: u.auth });
    assert.equal(r.status, 200, r.text);
    r = await s.api('GET', '/backend/health');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.result.database, true);
    r = await s.api('GET', '/backend/ready');
    assert.equal(r.status, 200, r.text);
    assert.match(s.log(), /database: reconnecting failed: .*not currently accepting connections/);
  });
});

'use strict';
/*
 * The integration tests' view of the stack: nginx/stack starts nginx, the
 * route programs (from $SB_BUILD, default build/) and the simulator in a
 * fresh directory on a free port; this module talks to them.
 *
 * The store is SQLite (a fresh file per stack), or PostgreSQL when
 * $SB_TEST_PG names a directory made by tests/pg-server: each stack then
 * gets a fresh database on that server, dropped when it stops. sql(),
 * rows() and failWrites() speak to whichever store the stack uses.
 */
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { sleep, SLOW, WAIT_MS, waitFor, gone, freePort, readEnv, children, answer } = require('../lib/common');
const { registerInput } = require('../sentc-sim/input');

const TOP = path.resolve(__dirname, '../..');

/*
 * The programs refuse to serve as root unless SENTC_BACKEND_USER says
 * root. The tests run as root on the test machine and tell them so (for
 * the stack and every program a test starts itself), unless a test asks
 * for another user (privileges.test.js).
 */
if (process.getuid() === 0 && process.env.SENTC_BACKEND_USER === undefined) process.env.SENTC_BACKEND_USER = 'root';
const BUILD = process.env.SB_BUILD || 'build';
/*
 * SLOW, WAIT_MS and waitFor (tests/lib/common.js): every wait in the
 * tests is for a condition, bounded by WAIT_MS (60 s, times SB_SLOW).
 */

/*
 * What nginx/stack may take to become healthy: as long as any wait
 * (STACK_WAIT_S, unless the caller set it).
 */
const STACK_ENV = { STACK_WAIT_S: process.env.STACK_WAIT_S || String(Math.ceil(WAIT_MS / 1000)) };

const PG = process.env.SB_TEST_PG
  ? JSON.parse(fs.readFileSync(path.join(process.env.SB_TEST_PG, 'conn.json'), 'utf8'))
  : null;

/* A PostgreSQL URI for database db on the test server (as the backend takes it). */
function pgUri(db, pg = PG) {
  const auth = `${pg.user}:${encodeURIComponent(pg.password)}`;
  if (pg.listen) return `postgresql://${auth}@${pg.listen}:${pg.port}/${db}`;
  return `postgresql://${auth}@/${db}?host=${encodeURIComponent(pg.host)}&port=${pg.port}`;
}

/* Runs SQL with psql on database db of the test server; the output as text. */
function psql(db, query, pg = PG) {
  return execFileSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
    '-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', db, '-c', query], {
    encoding: 'utf8',
    env: { ...process.env, PGPASSWORD: pg.password, PGCONNECT_TIMEOUT: '10' },
  }).trim();
}

let dbSeq = 0;

let userSeq = 0;

/* True if something accepts connections on the unix socket. */
function accepts(sock) {
  return new Promise((resolve) => {
    const c = net.connect(sock, () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

/*
 * A program's start-up check (-t) of config text, written to dir/c.env,
 * with only PATH, a database in dir and env in its environment: the
 * spawnSync result (status, stderr).
 */
function checkConfig(dir, text, env = {}) {
  const file = path.join(dir, 'c.env');
  fs.writeFileSync(file, text);
  return spawnSync(path.join(TOP, BUILD, 'bin/register'), ['-t', '-c', file], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, SENTC_BACKEND_DB: path.join(dir, 'db'), ...env },
  });
}

/* The same token re-signed with a key that is not the app's: a forgery. */
function forge(jwt) {
  const [h, p] = jwt.split('.');
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const sig = crypto.sign('sha384', Buffer.from(`${h}.${p}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${h}.${p}.${sig.toString('base64url')}`;
}

/*
 * One line of backend.log as a record, whichever the format (text or
 * SENTC_BACKEND_LOG=json): {program, pid, level, msg, request_id, ...};
 * a request's line has msg "request" and the request's fields. JSON
 * lines are checked for the members every line has.
 */
function parseLogLine(line) {
  if (line.startsWith('{')) {
    const r = JSON.parse(line);
    for (const k of ['time', 'program', 'pid', 'level', 'msg', 'request_id'])
      assert.ok(k in r, `log line without ${k}: ${line}`);
    assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, line);
    return r;
  }
  const m = /^([\w-]+)\[(\d+)\] (\w+): (.*)$/.exec(line);
  assert.ok(m, `not a log line: ${line}`);
  const [, program, pid, level, rest] = m;
  if (level !== 'request') {
    const rid = / rid=(\S+)$/.exec(rest);
    return { program, pid: Number(pid), level, msg: rid ? rest.slice(0, rid.index) : rest, request_id: rid ? rid[1] : null };
  }
  const f = Object.fromEntries(rest.split(' ').map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
  const orNull = (v) => (v === '-' ? null : v);
  return {
    program, pid: Number(pid), level: 'info', msg: 'request', request_id: f.rid, route: orNull(f.route),
    method: f.method, status: Number(f.status), err_code: Number(f.err), ms: Number(f.ms),
    upstream_status: f.upstream_status === '0' ? null : Number(f.upstream_status),
    upstream_ms: Number(f.upstream_ms), user: orNull(f.user),
  };
}

/* The claims of a JWT, unverified. */
function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

class Stack {
  constructor(dir, port, env, pgdb) {
    this.dir = dir;
    this.port = port;
    this.env = env;
    this.base = `http://127.0.0.1:${port}`;
    /*
     * config: the programs' config, over the simulator's own (which has
     * the app's signing key, for tests that sign tokens as sentc would).
     */
    const simConfig = path.join(dir, 'sim.config');
    this.simConfig = fs.existsSync(simConfig) ? readEnv(fs.readFileSync(simConfig, 'utf8').trim()) : {};
    this.config = { ...this.simConfig, ...readEnv(fs.readFileSync(path.join(dir, 'config.path'), 'utf8').trim()) };
    this.simBase = `http://127.0.0.1:${fs.readFileSync(path.join(dir, 'sim.port'), 'utf8').trim()}`;
    this.store = pgdb ? 'postgresql' : 'sqlite';
    this.pgdb = pgdb;
    // What SENTC_BACKEND_DB says: a SQLite file, or a PostgreSQL URI.
    this.db = pgdb ? pgUri(pgdb) : path.join(dir, 'db', 'backend.db');
  }

  /* A request through nginx; body may be an object (sent as JSON) or text. */
  async api(method, urlPath, { body, headers = {} } = {}) {
    const init = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      if (!init.headers['content-type']) init.headers['content-type'] = 'application/json';
    }
    const res = await fetch(this.base + urlPath, init);
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json };
  }

  /*
   * A request with the path sent exactly as given (fetch would resolve
   * "%2e%2e" and the like before sending).
   */
  raw(method, urlPath, headers = {}, body) {
    return answer(http.request({ host: '127.0.0.1', port: this.port, method, path: urlPath, headers }), body);
  }

  /*
   * Bytes sent exactly as given on a connection of their own (no client
   * library in between: CR, LF and control characters go out as they
   * are). Resolves, once the server closed the connection or after
   * timeout ms (WAIT_MS), with the status line's code (0 if none), the
   * headers, the body, and whether the server closed it.
   */
  rawHttp(bytes, { timeout = WAIT_MS } = {}) {
    return new Promise((resolve) => {
      const sock = net.connect(this.port, '127.0.0.1');
      let buf = Buffer.alloc(0);
      let closed = false;
      const done = () => {
        clearTimeout(timer);
        sock.destroy();
        const text = buf.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        const head = end >= 0 ? text.slice(0, end) : '';
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
        const headers = {};
        for (const line of head.split('\r\n').slice(1)) {
          const i = line.indexOf(':');
          if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
        }
        const body = end >= 0 ? text.slice(end + 4) : text;
        let json;
        try { json = JSON.parse(body); } catch { json = undefined; }
        resolve({ status: m ? Number(m[1]) : 0, headers, head, body, json, closed, raw: text });
      };
      const timer = setTimeout(done, timeout);
      sock.on('connect', () => sock.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1')));
      sock.on('data', (d) => { buf = Buffer.concat([buf, d]); });
      sock.on('error', () => {});
      sock.on('close', () => { closed = true; done(); });
    });
  }

  /* Tells nginx to reload its configuration (SIGHUP), as `nginx -s reload` does. */
  reloadNginx() {
    process.kill(Number(fs.readFileSync(path.join(this.dir, 'nginx.pid'), 'utf8')), 'SIGHUP');
  }

  /* nginx's worker processes. */
  nginxWorkers() {
    return children(fs.readFileSync(path.join(this.dir, 'nginx.pid'), 'utf8').trim());
  }

  nginxLog() {
    return fs.readFileSync(path.join(this.dir, 'nginx-error.log'), 'utf8');
  }

  /* A call to the simulator's control interface. */
  async sim(method, what, body) {
    const init = { method, headers: { 'content-type': 'application/json' } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(`${this.simBase}/__sim/${what}`, init);
    const json = await res.json();
    if (!json.ok) throw new Error(`sim ${method} ${what}: ${json.error}`);
    return json;
  }

  /* What the simulator received under /api since the last clearLog(). */
  async upstream() {
    return (await this.sim('GET', 'log')).requests;
  }

  async clearLog() {
    await this.sim('DELETE', 'log');
  }

  /* Runs SQL on the backend's own database: the sqlite3 shell, or psql. */
  sql(query) {
    if (this.pgdb) return psql(this.pgdb, query);
    return execFileSync('sqlite3', ['-json', this.db, query], { encoding: 'utf8' }).trim();
  }

  /* The rows a query returns, as objects. */
  rows(query) {
    if (this.pgdb) return JSON.parse(psql(this.pgdb, `SELECT coalesce(json_agg(t), '[]'::json) FROM (${query}) t`));
    const out = this.sql(query);
    return out === '' ? [] : JSON.parse(out);
  }

  /*
   * Makes every op ('INSERT', 'UPDATE' or 'DELETE') on table fail in the
   * database itself, as a full disk or a broken server would; returns the
   * function that undoes it.
   */
  failWrites(table, op) {
    const name = `sb_fail_${table}_${op.toLowerCase()}`;
    if (this.pgdb) {
      this.sql(`CREATE OR REPLACE FUNCTION sb_fail() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'injected'; END$$;
        CREATE TRIGGER ${name} BEFORE ${op} ON ${table} FOR EACH ROW EXECUTE FUNCTION sb_fail()`);
      return () => this.sql(`DROP TRIGGER ${name} ON ${table}`);
    }
    this.sql(`CREATE TRIGGER ${name} BEFORE ${op} ON ${table} BEGIN SELECT RAISE(ABORT, 'injected'); END;`);
    return () => this.sql(`DROP TRIGGER ${name}`);
  }

  /*
   * Makes the database refuse writes, as a file made immutable or a server
   * turned read-only (a standby after a failover) would; returns the
   * function that undoes it.
   */
  readOnly() {
    if (this.pgdb) {
      const set = (v) => {
        psql('postgres', `ALTER DATABASE ${this.pgdb} SET default_transaction_read_only = ${v}`);
        // A session takes the setting when it starts.
        psql('postgres', `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = '${this.pgdb}'`);
      };
      set('on');
      return () => set('off');
    }
    const files = [this.db, `${this.db}-wal`].filter((f) => fs.existsSync(f));
    execFileSync('chattr', ['+i', ...files]);
    return () => execFileSync('chattr', ['-i', ...files]);
  }

  /*
   * Another process takes the write lock of the whole database and holds
   * it past the programs' wait (readers still read); resolves to the async
   * function that lets go.
   */
  async holdWriteLock() {
    const holder = this.pgdb
      ? spawn('psql', ['-X', '-q', '-A', '-t', '-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', this.pgdb],
        { env: { ...process.env, PGPASSWORD: PG.password }, stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn('sqlite3', [this.db], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    holder.stdout.on('data', (d) => { out += d; });
    // psql and sqlite3's shell hold the lock until they read the next line.
    holder.stdin.write(this.pgdb
      ? "BEGIN;\nLOCK TABLE users, groups, items IN EXCLUSIVE MODE;\nSELECT 'locked';\n"
      : "BEGIN EXCLUSIVE;\nSELECT 'locked';\n");
    const release = async () => {
      holder.stdin.end('ROLLBACK;\n');
      await new Promise((r) => holder.on('close', r));
    };
    try {
      await waitFor(() => out.includes('locked'), 'the other process to hold the write lock', { detail: () => `it printed ${JSON.stringify(out)}` });
    } catch (err) {
      await release();
      throw err;
    }
    return release;
  }

  log() {
    return fs.readFileSync(path.join(this.dir, 'backend.log'), 'utf8');
  }

  /* backend.log as records (see parseLogLine); program: only its lines. */
  logRecords(program) {
    return this.log().split('\n').filter(Boolean).map(parseLogLine)
      .filter((r) => program === undefined || r.program === program);
  }

  /* The records of calls whose answer was lost (lib/sb_unsure.h). */
  unsure() {
    return this.rows('SELECT kind, key, since, due, held FROM unsure ORDER BY since');
  }

  /*
   * Makes every record of a lost answer due now, instead of
   * sb_unsure_after() seconds after it was made, and sends requests that
   * run the pass that settles them (an unauthenticated DELETE
   * /api/v1/user: 401, nothing sent upstream) until the pass took each.
   */
  async settle() {
    this.sql('UPDATE unsure SET due = 0');
    await waitFor(async () => {
      await this.api('DELETE', '/api/v1/user');
      return this.rows(`SELECT 1 FROM unsure WHERE due <= ${Math.floor(Date.now() / 1000)}`).length === 0;
    }, 'a pass over the records of lost answers', { detail: () => JSON.stringify(this.unsure()) });
  }

  /* A program's workers (the master's children); [] while there are none. */
  pids(name) {
    return children(fs.readFileSync(path.join(this.dir, 'pids', name), 'utf8').trim());
  }

  /* Registers a user through the backend (keys stand-ins: sentc-sim/input.js); returns the sentc result. */
  async register(name, userData) {
    const body = registerInput(name);
    if (userData !== undefined) body.user_data = userData;
    const r = await this.api('POST', '/api/v1/register', { body });
    assert.equal(r.status, 200, r.text);
    return r.json.result;
  }

  /* A simulator session (JWT and refresh token) for a registered user. */
  async session(userId, opts = {}) {
    return this.sim('POST', 'session', { user_id: userId, ...opts });
  }

  /* Registers a user through the backend and logs them in at the simulator. */
  async user(prefix = 'u', userData) {
    const name = `${prefix}-${process.pid}-${++userSeq}`;
    const { user_id } = await this.register(name, userData);
    const { jwt } = await this.session(user_id);
    return { name, id: user_id, jwt, auth: { authorization: `Bearer ${jwt}` } };
  }

  /* Creates a group at sentc through the backend; returns its id. */
  async group(owner, groupData) {
    const body = { keys: 'opaque' };
    if (groupData !== undefined) body.group_data = groupData;
    const r = await this.api('POST', '/api/v1/group', { body, headers: owner.auth });
    assert.equal(r.status, 200, r.text);
    return r.json.result.group_id;
  }

  /*
   * Stops one program and starts it again with extra environment (config
   * keys override the config file, as at start): a restart with a new
   * configuration, such as a rotated cookie key.
   */
  async restart(name, env = {}) {
    const pidFile = path.join(this.dir, 'pids', name);
    const sock = path.join(this.dir, 'sock', `${name}.sock`);
    const master = Number(fs.readFileSync(pidFile, 'utf8'));
    process.kill(master, 'SIGTERM');
    await waitFor(() => gone(master), `${name} (pid ${master}) to stop on SIGTERM`);
    const log = fs.openSync(path.join(this.dir, 'backend.log'), 'a');
    const cfg = fs.readFileSync(path.join(this.dir, 'config.path'), 'utf8').trim();
    // Under the wrapper the stack runs programs under (SB_WRAP), if any.
    const cmd = [...(process.env.SB_WRAP || '').split(/\s+/).filter(Boolean), path.join(TOP, BUILD, 'bin', name)];
    const child = spawn(cmd[0], [...cmd.slice(1), '-c', cfg], {
      env: { ...process.env, ...this.env, ...env, SENTC_BACKEND_SOCKET_DIR: path.join(this.dir, 'sock') },
      stdio: ['ignore', 'ignore', log],
      detached: true,
    });
    fs.closeSync(log);
    child.unref();
    fs.writeFileSync(pidFile, String(child.pid));
    await waitFor(() => accepts(sock), `${name} to start again and accept on ${sock}`,
      { detail: () => this.log().split('\n').slice(-5).join('\n') });
  }

  /*
   * Edits the config file the programs read: each key of changes set to
   * its value (a line replaced, or added), or removed if the value is
   * null. Takes effect on reload() (or a restart).
   */
  setConfig(changes) {
    const file = fs.readFileSync(path.join(this.dir, 'config.path'), 'utf8').trim();
    let lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
    for (const [k, v] of Object.entries(changes)) {
      lines = lines.filter((l) => !new RegExp(`^\\s*(export\\s+)?${k}=`).test(l));
      if (v !== null) lines.push(`${k}=${v}`);
    }
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    this.config = { ...this.simConfig, ...readEnv(file) };
  }

  /* The master's pid of program name. */
  master(name) {
    return Number(fs.readFileSync(path.join(this.dir, 'pids', name), 'utf8'));
  }

  /*
   * Sends SIGHUP to the masters of names (default: every program) and
   * waits until each has either finished the reload (its old workers
   * gone) or refused it. Returns { name: 'complete' | 'refused' }.
   */
  async reload(names = fs.readdirSync(path.join(TOP, BUILD, 'bin'))) {
    const outcome = (name) => {
      let done = 0;
      let refused = 0;
      for (const r of this.logRecords(name)) {
        if (/^reload complete/.test(r.msg)) done++;
        if (/^reload: .*; still serving with the config loaded before$/.test(r.msg)) refused++;
      }
      return { done, refused };
    };
    const before = Object.fromEntries(names.map((n) => [n, outcome(n)]));
    for (const n of names) process.kill(this.master(n), 'SIGHUP');
    const result = {};
    await waitFor(() => {
      for (const n of names) {
        if (result[n]) continue;
        const now = outcome(n);
        if (now.done > before[n].done) result[n] = 'complete';
        else if (now.refused > before[n].refused) result[n] = 'refused';
      }
      return Object.keys(result).length === names.length;
    }, 'a reload outcome from every program', { detail: () => `none from ${names.filter((n) => !result[n]).join(', ')}` });
    return result;
  }

  stop() {
    execFileSync(path.join(TOP, 'nginx/stack'), ['stop'], { env: { ...process.env, RUN_DIR: this.dir } });
    const log = this.log();
    // A sanitizer build reports on stderr, which is this log.
    assert.doesNotMatch(log, /ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer/, 'sanitizer report in backend.log');
    if (this.pgdb) {
      assert.ok(!log.includes(PG.password), "the database password in backend.log");
      if (!process.env.SB_KEEP) psql('postgres', `DROP DATABASE ${this.pgdb} WITH (FORCE)`);
    }
    // Every line is a log line of the format asked for.
    const json = (this.env.SENTC_BACKEND_LOG || process.env.SENTC_BACKEND_LOG) === 'json';
    for (const line of log.split('\n').filter(Boolean)) {
      assert.equal(line.startsWith('{'), json, `a ${json ? 'text' : 'JSON'} line in a ${json ? 'JSON' : 'text'} log: ${line}`);
      parseLogLine(line);
    }
    if (!process.env.SB_KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/*
 * Starts a stack. env: extra environment for the programs (config keys
 * override the generated config, as environment variables do).
 */
async function start(env = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-test-'));
  // Programs that run as another user (SENTC_BACKEND_USER) pass through it.
  fs.chmodSync(dir, 0o711);
  const port = await freePort();
  let pgdb = null;
  const extra = {};
  if (PG && env.SENTC_BACKEND_DB === undefined) {
    pgdb = `sb_test_${process.pid}_${++dbSeq}`;
    psql('postgres', `CREATE DATABASE ${pgdb}`);
    extra.SENTC_BACKEND_DB = pgUri(pgdb);
  }
  execFileSync(path.join(TOP, 'nginx/stack'), ['start'], {
    env: { ...STACK_ENV, ...process.env, ...extra, ...env, PORT: String(port), RUN_DIR: dir, BUILD },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return new Stack(dir, port, { ...extra, ...env }, pgdb);
}

module.exports = { start, registerInput, readEnv, checkConfig, forge, claims, sleep, waitFor, gone, parseLogLine, pgUri, psql, PG, TOP, BUILD, SLOW, WAIT_MS, STACK_ENV };

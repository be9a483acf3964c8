'use strict';
/*
 * Who the programs run as. Started as root, each binds its socket and
 * makes its metrics file, hands them to SENTC_BACKEND_USER, and becomes
 * that user for good before it opens the database or forks a worker; it
 * refuses to serve as root unless SENTC_BACKEND_USER says root. Started
 * as another user, it stays that user.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { start, TOP, BUILD, PG, WAIT_MS, STACK_ENV } = require('./harness');
const { freePort } = require('../lib/common');

const root = process.getuid() === 0;
const skip = root ? false : 'the programs drop privileges only when started as root';
const idOf = (what, name) => Number(execFileSync('id', [what, name], { encoding: 'utf8' }).trim());

/* Uid:, Gid:, Groups: and CapEff: of a process. */
function creds(pid) {
  const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (k) => new RegExp(`^${k}:\\t(.*)$`, 'm').exec(st)[1].trim().split(/\s+/).filter(Boolean);
  return { uid: field('Uid').map(Number), gid: field('Gid').map(Number), groups: field('Groups').map(Number), cap: field('CapEff')[0] };
}

describe('started as root', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-priv-'));
  const good = fs.readFileSync(path.join(TOP, 'tests/integration/fixtures/dev.env'), 'utf8');
  const file = path.join(dir, 'c.env');
  fs.writeFileSync(file, good);
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (args, env, opts = {}) => spawnSync(path.join(TOP, BUILD, 'bin/me'), args, {
    encoding: 'utf8', timeout: WAIT_MS, ...opts,
    env: { PATH: process.env.PATH, SENTC_BACKEND_DB: path.join(dir, 'db'), SENTC_BACKEND_SOCKET_DIR: dir, ...env },
  });

  it('refuses to serve without SENTC_BACKEND_USER, and binds nothing', () => {
    const r = run(['-c', file], {});
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /started as root: set SENTC_BACKEND_USER to the user to run as \(root only if you mean it\)/);
    assert.ok(!fs.existsSync(path.join(dir, 'me.sock')));
  });

  it('checks a config as root all the same (-t)', () => {
    const r = run(['-t', '-c', file], {});
    assert.equal(r.status, 0, r.stderr);
  });

  it('refuses a user or group that does not exist, naming the key', () => {
    for (const [user, msg] of [['nosuchuser-sb', /SENTC_BACKEND_USER: no user nosuchuser-sb/],
      ['nobody:nosuchgroup-sb', /SENTC_BACKEND_USER: no group nosuchgroup-sb/],
      [':www-data', /SENTC_BACKEND_USER must be a user name, or user:group/]]) {
      const r = run(['-t', '-c', file], { SENTC_BACKEND_USER: user });
      assert.equal(r.status, 78, r.stderr);
      assert.match(r.stderr, msg);
    }
  });
});

describe('started as another user', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-priv-'));
  fs.chmodSync(dir, 0o777);
  const file = path.join(dir, 'c.env');
  fs.writeFileSync(file, fs.readFileSync(path.join(TOP, 'tests/integration/fixtures/dev.env')));
  fs.chmodSync(file, 0o644);
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const asNobody = (user) => spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups',
    path.join(TOP, BUILD, 'bin/me'), '-t', '-c', file], {
    encoding: 'utf8', timeout: WAIT_MS,
    env: { PATH: process.env.PATH, SENTC_BACKEND_DB: path.join(dir, 'db'), SENTC_BACKEND_USER: user },
  });

  it('stays that user: SENTC_BACKEND_USER may name it, or root, and no one else', () => {
    for (const user of ['', 'nobody', 'root']) {
      const r = asNobody(user);
      assert.equal(r.status, 0, `${user}: ${r.stderr}`);
    }
    const r = asNobody('www-data');
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /SENTC_BACKEND_USER is www-data, but the program was started as uid 65534: start it as root or as www-data/);
  });
});

describe('a stack started as root with SENTC_BACKEND_USER=nobody:www-data', { skip }, () => {
  let s;
  let dbDir;
  const uid = root ? idOf('-u', 'nobody') : -1;
  const gid = root ? Number(execFileSync('getent', ['group', 'www-data'], { encoding: 'utf8' }).split(':')[2]) : -1;

  before(async () => {
    // The database lives where that user may write, as StateDirectory= gives it.
    dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-priv-db-'));
    fs.chownSync(dbDir, uid, gid);
    s = await start({ SENTC_BACKEND_USER: 'nobody:www-data', SENTC_BACKEND_DB: path.join(dbDir, 'backend.db') });
  });
  after(() => {
    s.stop();
    fs.rmSync(dbDir, { recursive: true, force: true });
  });

  it('every master and worker runs as that user and group, without capabilities', () => {
    const programs = fs.readdirSync(path.join(TOP, BUILD, 'bin'));
    for (const p of programs) {
      for (const pid of [s.master(p), ...s.pids(p)]) {
        const c = creds(pid);
        assert.deepEqual(c.uid, [uid, uid, uid, uid], `${p} ${pid}`);
        assert.deepEqual(c.gid, [gid, gid, gid, gid], `${p} ${pid}`);
        assert.ok(c.groups.every((g) => g === gid || g === idOf('-g', 'nobody')), `${p}: groups ${c.groups}`);
        assert.equal(c.cap, '0000000000000000', `${p}: capabilities`);
      }
    }
  });

  it('hands it the sockets, the metrics files and the database', () => {
    for (const f of fs.readdirSync(path.join(s.dir, 'sock')).filter((n) => n.endsWith('.sock'))) {
      const st = fs.statSync(path.join(s.dir, 'sock', f));
      assert.equal(st.uid, uid, f);
      assert.equal(st.gid, gid, f);
      assert.equal(st.mode & 0o777, 0o660, f);
    }
    const stats = path.join(s.dir, 'sock', 'stats');
    assert.equal(fs.statSync(stats).uid, uid);
    assert.ok(fs.readdirSync(stats).length >= 10);
    for (const f of fs.readdirSync(stats)) assert.equal(fs.statSync(path.join(stats, f)).uid, uid, f);
    assert.equal(fs.statSync(path.join(dbDir, 'backend.db')).uid, uid, 'made by the user, not by root');
  });

  it('serves through nginx: store, health and metrics', async () => {
    const u = await s.user('priv', { as: 'nobody' });
    const r = await s.api('GET', '/backend/me', { headers: u.auth });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.result, { as: 'nobody' });
    const h = await s.api('GET', '/backend/health');
    assert.equal(h.status, 200, h.text);
    const m = await s.api('GET', '/backend/metrics');
    assert.match(m.text, /^sentc_backend_requests_total\{program="me",method="GET",status="200"\} 1$/m);
  });

  it('reloads only a config the user may read; a refused reload serves on', async () => {
    const file = fs.readFileSync(path.join(s.dir, 'config.path'), 'utf8').trim();
    fs.chmodSync(file, 0o600);
    assert.equal((await s.reload(['me'])).me, 'refused');
    assert.match(s.logRecords('me').filter((r) => /^reload: /.test(r.msg)).at(-1).msg, /config file .*: Permission denied/);
    const u = await s.user('priv2', { n: 2 });
    assert.equal((await s.api('GET', '/backend/me', { headers: u.auth })).status, 200);
    // Readable by its group: the way docs/DEPLOY.md sets up /etc/sentc-backend.
    fs.chownSync(file, 0, gid);
    fs.chmodSync(file, 0o640);
    assert.equal((await s.reload(['me'])).me, 'complete');
    assert.equal((await s.api('GET', '/backend/me', { headers: u.auth })).status, 200);
    for (const pid of s.pids('me')) assert.deepEqual(creds(pid).uid, [uid, uid, uid, uid], 'new workers too');
  });
});

/*
 * The development stack (make run, nginx/stack) started as root with no
 * SENTC_BACKEND_USER runs as a real deployment does: the programs and
 * nginx's workers as nobody, whose sockets they are, with a database that
 * is nobody's and no one else's.
 */
describe('a development stack started as root, with no SENTC_BACKEND_USER', { skip }, () => {
  const uid = root ? idOf('-u', 'nobody') : -1;
  const gid = root ? idOf('-g', 'nobody') : -1;
  let s;

  before(async () => { s = await start({ SENTC_BACKEND_USER: undefined }); });
  after(() => s.stop());

  it('runs every program, master and workers, and nginx\'s workers as nobody', () => {
    for (const p of fs.readdirSync(path.join(TOP, BUILD, 'bin'))) {
      for (const pid of [s.master(p), ...s.pids(p)]) {
        const c = creds(pid);
        assert.deepEqual(c.uid, [uid, uid, uid, uid], `${p} ${pid}`);
        assert.deepEqual(c.gid, [gid, gid, gid, gid], `${p} ${pid}`);
        assert.equal(c.cap, '0000000000000000', `${p}: capabilities`);
      }
    }
    const workers = s.nginxWorkers();
    assert.ok(workers.length > 0);
    for (const pid of workers) assert.deepEqual(creds(pid).uid, [uid, uid, uid, uid], `nginx worker ${pid}`);
  });

  it('gives nobody the sockets, and the database\'s folder and file, which no one else may read', async () => {
    const u = await s.user('dev', { as: 'nobody' });
    assert.equal((await s.api('GET', '/backend/me', { headers: u.auth })).status, 200);
    for (const f of fs.readdirSync(path.join(s.dir, 'sock')).filter((n) => n.endsWith('.sock'))) {
      assert.equal(fs.statSync(path.join(s.dir, 'sock', f)).uid, uid, f);
    }
    // On PostgreSQL the database is the server's: no file of the stack's.
    if (!PG) {
      const dbDir = path.dirname(s.db);
      for (const f of [dbDir, ...fs.readdirSync(dbDir).map((n) => path.join(dbDir, n))]) {
        const st = fs.statSync(f);
        assert.equal(st.uid, uid, f);
        assert.equal(st.mode & 0o077, 0, `${f}: mode ${(st.mode & 0o777).toString(8)}`);
      }
      assert.ok(fs.existsSync(s.db));
    }
    const cfg = fs.statSync(fs.readFileSync(path.join(s.dir, 'config.path'), 'utf8').trim());
    assert.equal(cfg.mode & 0o007, 0, 'the development config is not readable by others');
  });

  it('reloads: nobody may read the development config', async () => {
    assert.equal((await s.reload(['me'])).me, 'complete');
  });
});

describe('a development stack started as root in a folder nobody cannot reach', { skip }, () => {
  const uid = root ? idOf('-u', 'nobody') : -1;
  const closed = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-closed-'));
  const run = path.join(closed, 'run');
  const env = () => {
    const e = { ...process.env, RUN_DIR: run, BUILD };
    delete e.SENTC_BACKEND_USER;
    return e;
  };
  after(() => {
    spawnSync(path.join(TOP, 'nginx/stack'), ['stop'], { env: env() });
    fs.rmSync(closed, { recursive: true, force: true });
  });

  it('keeps the sockets and the database in a folder of the run\'s own, and removes it on stop', async () => {
    fs.chmodSync(closed, 0o700);
    const port = await freePort();
    const r = spawnSync(path.join(TOP, 'nginx/stack'), ['start'], {
      encoding: 'utf8', timeout: 2 * WAIT_MS, env: { ...STACK_ENV, ...env(), PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    assert.equal(r.status, 0, r.stderr);
    const state = fs.readFileSync(path.join(run, 'state.path'), 'utf8').trim();
    assert.match(r.stderr, new RegExp(`nobody cannot reach ${run}: the sockets and the database are in ${state} for this run`));
    const h = await fetch(`http://127.0.0.1:${port}/backend/health`);
    assert.equal(h.status, 200, await h.text());
    assert.equal(fs.statSync(path.join(state, 'db', 'backend.db')).uid, uid);
    assert.equal(fs.statSync(path.join(state, 'sock', 'me.sock')).uid, uid);
    assert.deepEqual(creds(Number(fs.readFileSync(path.join(run, 'pids', 'me'), 'utf8'))).uid, [uid, uid, uid, uid]);
    assert.equal(spawnSync(path.join(TOP, 'nginx/stack'), ['stop'], { env: env() }).status, 0);
    assert.ok(!fs.existsSync(state), 'removed on stop');
  });
});

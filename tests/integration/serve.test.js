'use strict';
/* The stack as a whole: health, pass-through, the worker supervisor, start-up checks. */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { start, registerInput, waitFor, gone, checkConfig, TOP, BUILD, WAIT_MS } = require('./harness');

describe('the running stack', () => {
  let s;
  before(async () => { s = await start(); });
  after(() => s.stop());

  it('GET /backend/health is 200 with every program up, and no secret', async () => {
    const r = await s.api('GET', '/backend/health');
    assert.equal(r.status, 200, r.text);
    const programs = fs.readdirSync(path.join(TOP, BUILD, 'bin')).sort();
    assert.ok(programs.length >= 8);
    assert.deepEqual(r.json.result.programs, Object.fromEntries(programs.map((p) => [p, true])));
    assert.equal(r.json.result.database, true);
    assert.equal(r.json.result.jwt_keys, 1);
    assert.equal(r.json.result.cookie_keys, 1, 'the dev config has a cookie key');
    assert.equal(r.json.result.allowed_origins, 2, 'and its own origin, as 127.0.0.1 and localhost');
    for (const k of ['SENTC_SECRET_TOKEN', 'SENTC_PUBLIC_TOKEN', 'SENTC_JWT_VERIFY_KEY', 'SENTC_JWT_SIGN_KEY', 'SENTC_BACKEND_COOKIE_KEY'])
      assert.ok(!r.text.includes(s.config[k]), k);
  });

  it('passes an /api/ path no program serves through to the sentc API unchanged', async () => {
    await s.clearLog();
    const r = await s.api('POST', '/api/v1/exists', {
      body: { user_identifier: 'nobody' },
      headers: { 'x-sentc-app-token': s.config.SENTC_PUBLIC_TOKEN },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.result.available, true);
    const up = await s.upstream();
    assert.equal(up.length, 1);
    assert.equal(up[0].token, 'public', "the client's own token, not the backend's");
  });

  it('answers 404 in the envelope for a path the program does not serve', async () => {
    const r = await s.api('POST', '/api/v1/register/extra');
    assert.equal(r.status, 404);
    assert.equal(r.json.status, false);
  });

  it('replaces a worker killed with SIGKILL, and serves the next request', async () => {
    const before = s.pids('register');
    assert.ok(before.length >= 1);
    process.kill(before[0], 'SIGKILL');
    await waitFor(() => {
      const now = s.pids('register');
      return !now.includes(before[0]) && now.length === before.length;
    }, 'the killed worker to be replaced', { detail: () => `before ${before}, now ${s.pids('register')}` });
    const after = s.pids('register');
    assert.equal(after.length, before.length, 'the master keeps its number of workers');
    assert.ok(!after.includes(before[0]));
    for (let i = 0; i < 4; i++) {
      const r = await s.api('POST', '/api/v1/register', { body: registerInput(`k-${process.pid}-${i}`) });
      assert.equal(r.status, 200, r.text);
    }
    assert.match(s.log(), /killed by signal 9; restarting/);
  });

  it('answers a request it refuses before reading a large body, and the next ones', async () => {
    // Refused before the body is read: the program must not close the
    // connection under nginx, which is still sending the body.
    const big = JSON.stringify({ pad: 'x'.repeat(1900 * 1024) });
    for (let i = 0; i < 5; i++) {
      const r = await s.api('PUT', '/backend/me', { body: big });
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.err_code, 20012);
      const ok = await s.api('POST', '/api/v1/user/prepare_register_device',
        { body: { device_identifier: `after-big-${process.pid}-${i}` } });
      assert.equal(ok.status, 200, ok.text);
    }
  });

  it('finishes a request in flight when told to stop (SIGTERM drains)', async () => {
    // sentc holds the request 3 s: the signal comes while it is held.
    await s.clearLog();
    await s.sim('POST', 'fail', { path: '/api/v1/user/prepare_register_device', mode: 'delay', delay_ms: 3000, count: 1 });
    const pending = s.api('POST', '/api/v1/user/prepare_register_device', { body: { device_identifier: `drain-${process.pid}` } });
    await waitFor(async () => (await s.upstream()).length === 1, 'the request to reach sentc');
    const master = Number(fs.readFileSync(path.join(s.dir, 'pids', 'register-device'), 'utf8'));
    process.kill(master, 'SIGTERM');
    const r = await pending;
    assert.equal(r.status, 200, r.text);
    await waitFor(() => gone(master), 'the program to exit after draining');
  });
});

describe('start-up refuses a config that cannot work, naming the key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-cfg-'));
  const good = fs.readFileSync(path.join(TOP, 'tests/integration/fixtures/dev.env'), 'utf8');
  const secret = /SENTC_SECRET_TOKEN=(.*)/.exec(good)[1];
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const check = (text, env) => checkConfig(dir, text, env);

  it('accepts the dashboard .env plus a database', () => {
    const r = check(good);
    assert.equal(r.status, 0, r.stderr);
  });

  const cases = [
    ['no secret token', good.replace(/^SENTC_SECRET_TOKEN=.*$/m, ''), {}, /SENTC_SECRET_TOKEN is required/],
    ['no verify key', good.replace(/^SENTC_JWT_VERIFY_KEY=.*$/m, ''), {}, /SENTC_JWT_VERIFY_KEY is required/],
    ['a verify key that is not a P-384 point', good.replace(/^(SENTC_JWT_VERIFY_KEY=)(.*)$/m, '$1AAAA$2'), {}, /SENTC_JWT_VERIFY_KEY/],
    ['a timeout that is not a number', good, { SENTC_BACKEND_UPSTREAM_TIMEOUT_MS: 'soon' }, /SENTC_BACKEND_UPSTREAM_TIMEOUT_MS/],
    ['a misspelt backend key', `${good}SENTC_BACKEND_MAX_BODDY=5\n`, {}, /unknown key SENTC_BACKEND_MAX_BODDY/],
    ['an api url that is not http', `${good}SENTC_API_URL=ftp://x\n`, {}, /SENTC_API_URL/],
    ['a database that cannot be opened', good, { SENTC_BACKEND_DB: '/nonexistent/dir/db' }, /SENTC_BACKEND_DB/],
  ];
  for (const [what, text, env, re] of cases) {
    it(what, () => {
      const r = check(text, env);
      assert.equal(r.status, 78, r.stderr);
      assert.match(r.stderr, re);
      assert.ok(!r.stderr.includes(secret), 'no secret in the message');
    });
  }

  describe('a PostgreSQL database that cannot be used, its password never shown', () => {
    const pw = 'hunter2-Secret-77';
    const pgCases = [
      ['a server that is not there', `postgresql://app:${pw}@127.0.0.1:1/sentc`,
        /SENTC_BACKEND_DB postgresql:\/\/app@127\.0\.0\.1:1\/sentc: .*127\.0\.0\.1/],
      ['the password as a parameter', `postgres://app@127.0.0.1:1/sentc?password=${pw}`, /SENTC_BACKEND_DB/],
      ['a URI that is not one', `postgresql://app:${pw}@[::1/sentc`, /SENTC_BACKEND_DB .*not a valid PostgreSQL connection string/],
      ['an empty value', '', /SENTC_BACKEND_DB must not be empty/],
    ];
    for (const [what, uri, re] of pgCases) {
      it(what, () => {
        const r = check(good, { SENTC_BACKEND_DB: uri });
        assert.equal(r.status, 78, r.stderr);
        assert.match(r.stderr, re);
        assert.ok(!r.stderr.includes(pw), `password in: ${r.stderr}`);
      });
    }
  });

  it('lets the environment override the file', () => {
    const r = check(good.replace(/^SENTC_SECRET_TOKEN=.*$/m, ''), { SENTC_SECRET_TOKEN: 'from-env' });
    assert.equal(r.status, 0, r.stderr);
  });
});

describe('a program takes its socket from spawn-fcgi or systemd', () => {
  let s;
  before(async () => { s = await start(); });
  after(() => s.stop());

  /* Stops the stack's own `me`, so that another can take its socket. */
  async function stopMe() {
    const master = Number(fs.readFileSync(path.join(s.dir, 'pids', 'me'), 'utf8'));
    process.kill(master, 'SIGTERM');
    await waitFor(() => gone(master), `me (pid ${master}) to stop on SIGTERM`);
  }

  /* Runs cmd until GET /backend/me answers through nginx; returns that answer. */
  async function serveWith(cmd, args) {
    const { spawn } = require('node:child_process');
    const env = { ...process.env, SENTC_BACKEND_SOCKET_DIR: path.join(s.dir, 'elsewhere'), SENTC_BACKEND_DB: s.db };
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    try {
      let r;
      // Until it serves, or exits (then it never will).
      await waitFor(async () => {
        r = await s.api('GET', '/backend/me', { headers: s.auth });
        return r.status !== 503 || child.exitCode !== null;
      }, `${cmd} to serve GET /backend/me`, { detail: () => err.slice(0, 400) });
      assert.notEqual(r.status, 503, `${cmd} never served: ${err.slice(0, 400)}`);
      return r;
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => { if (child.exitCode !== null) r(); else child.on('exit', r); });
    }
  }

  it('serves on the socket spawn-fcgi passes on standard input, then on one from LISTEN_FDS', async () => {
    const u = await s.user('sock', { via: 'inherited' });
    s.auth = u.auth;
    await stopMe();
    const sock = path.join(s.dir, 'sock', 'me.sock');
    const prog = path.join(TOP, BUILD, 'bin/me');
    const cfg = fs.readFileSync(path.join(s.dir, 'config.path'), 'utf8').trim();

    let r = await serveWith('spawn-fcgi', ['-n', '-s', sock, '-M', '0660', '--', prog, '-c', cfg]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.result, { via: 'inherited' });

    // systemd's protocol: a listening socket as fd 3, LISTEN_PID and LISTEN_FDS.
    const perl = 'use Socket; use POSIX; $^F = 10; my $p = shift; unlink $p;'
      + 'socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die; bind($s, pack_sockaddr_un($p)) or die "bind: $!";'
      + 'listen($s, 128) or die; POSIX::dup2(fileno($s), 3) or die;'
      + '$ENV{LISTEN_PID} = $$; $ENV{LISTEN_FDS} = 1; exec @ARGV or die';
    r = await serveWith('perl', ['-e', perl, sock, prog, '-c', cfg]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.result, { via: 'inherited' });
    assert.ok(!fs.existsSync(path.join(s.dir, 'elsewhere')), 'bound nothing of its own');
  });

  it('refuses to start when LISTEN_FDS names an fd that is not a listening socket', () => {
    const cfg = fs.readFileSync(path.join(s.dir, 'config.path'), 'utf8').trim();
    const r = spawnSync('bash', ['-c', 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" -c "$1" 3</dev/null',
      path.join(TOP, BUILD, 'bin/me'), cfg], { encoding: 'utf8', timeout: WAIT_MS, env: { ...process.env, SENTC_BACKEND_DB: s.db } });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /fd 3 is not a listening socket/);
  });
});

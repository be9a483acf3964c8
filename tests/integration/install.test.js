'use strict';
/*
 * make install and make uninstall: the files, where PREFIX and DESTDIR put
 * them; the installed programs and nginx snippet serving behind nginx; the
 * example config, the man page and the systemd units checked with the
 * tools that read them. (systemd itself does not run here: the units are
 * verified and scored by systemd-analyze, and the socket hand-over they
 * use is tested in serve.test.js.)
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { start, TOP, BUILD } = require('./harness');

const PROGRAMS = fs.readdirSync(path.join(TOP, 'cgi-bin')).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2)).sort();
const DOCS = fs.readdirSync(path.join(TOP, 'docs')).filter((f) => f.endsWith('.md')).sort();
const ASIS = fs.readdirSync(path.join(TOP, 'apache/errors')).filter((f) => f.endsWith('.asis')).sort();

function make(...args) {
  return execFileSync('make', ['-s', '-C', TOP, `BUILD=${BUILD}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/* Every file below dir, relative to it, with its mode. */
function files(dir) {
  const out = {};
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = (fs.statSync(p).mode & 0o7777).toString(8);
    }
  };
  walk(dir);
  return out;
}

describe('make install DESTDIR=… (PREFIX /usr/local)', () => {
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-install-'));
  const prefix = path.join(dest, 'usr/local');
  let s;

  before(() => {
    fs.chmodSync(dest, 0o755);
    make('install', `DESTDIR=${dest}`);
  });
  after(() => {
    if (s) s.stop();
    fs.rmSync(dest, { recursive: true, force: true });
  });

  it('installs exactly the programs, the nginx and Apache configs, the example config, the README and docs, the man page and the units', () => {
    const want = {
      ...Object.fromEntries(PROGRAMS.map((p) => [`usr/local/libexec/sentc-backend/${p}`, '755'])),
      'usr/local/share/sentc-backend/nginx/sentc-backend.conf': '644',
      'usr/local/share/sentc-backend/nginx/sentc-backend-upstreams.conf': '644',
      'usr/local/share/sentc-backend/apache/sentc-backend.conf': '644',
      ...Object.fromEntries(ASIS.map((f) => [`usr/local/share/sentc-backend/apache/errors/${f}`, '644'])),
      'usr/local/share/sentc-backend/backend.env.example': '644',
      'usr/local/share/doc/sentc-backend/README.md': '644',
      ...Object.fromEntries(DOCS.map((f) => [`usr/local/share/doc/sentc-backend/docs/${f}`, '644'])),
      'usr/local/share/man/man8/sentc-backend.8': '644',
      'usr/local/lib/systemd/system/sentc-backend@.service': '644',
      'usr/local/lib/systemd/system/sentc-backend@.socket': '644',
    };
    assert.deepEqual(files(dest), want);
    for (const p of PROGRAMS) {
      assert.ok(fs.readFileSync(path.join(prefix, 'libexec/sentc-backend', p))
        .equals(fs.readFileSync(path.join(TOP, BUILD, 'bin', p))), `${p} is the build's`);
    }
    assert.equal(fs.readFileSync(path.join(prefix, 'share/doc/sentc-backend/README.md'), 'utf8'),
      fs.readFileSync(path.join(TOP, 'README.md'), 'utf8'));
    for (const f of DOCS) {
      assert.equal(fs.readFileSync(path.join(prefix, 'share/doc/sentc-backend/docs', f), 'utf8'),
        fs.readFileSync(path.join(TOP, 'docs', f), 'utf8'), f);
    }
  });

  it('names the installed paths in what it installs, with nothing left to fill in', () => {
    const unit = fs.readFileSync(path.join(prefix, 'lib/systemd/system/sentc-backend@.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/usr\/local\/libexec\/sentc-backend\/%i -c \/etc\/sentc-backend\/backend\.env$/m);
    const apache = fs.readFileSync(path.join(prefix, 'share/sentc-backend/apache/sentc-backend.conf'), 'utf8');
    assert.match(apache, /Define SENTC_BACKEND_ERRORS \/usr\/local\/share\/sentc-backend\/apache\/errors$/m);
    for (const [f, text] of Object.entries(files(dest)).map(([f]) => [f, fs.readFileSync(path.join(dest, f))])) {
      if (f.includes('libexec')) continue;
      assert.doesNotMatch(text.toString('utf8'), /@[A-Z]+@/, `${f} has a placeholder left`);
    }
  });

  it('the installed programs and nginx snippet serve behind nginx', async () => {
    s = await start({
      BIN_DIR: path.join(prefix, 'libexec/sentc-backend'),
      SNIPPET: path.join(prefix, 'share/sentc-backend/nginx/sentc-backend.conf'),
    });
    // The command line (the program may run under a wrapper, such as valgrind).
    for (const p of PROGRAMS) {
      const argv = fs.readFileSync(`/proc/${s.master(p)}/cmdline`, 'utf8').split('\0');
      assert.ok(argv.includes(path.join(prefix, 'libexec/sentc-backend', p)), `${p}: ${argv.join(' ')}`);
    }
    const h = await s.api('GET', '/backend/health');
    assert.equal(h.status, 200, h.text);
    assert.deepEqual(Object.keys(h.json.result.programs).sort(), PROGRAMS);
    const u = await s.user('installed', { from: 'libexec' });
    const me = await s.api('GET', '/backend/me', { headers: u.auth });
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(me.json.result, { from: 'libexec' });
    assert.equal((await s.api('GET', '/backend/ready')).status, 200);
    const m = await s.api('GET', '/backend/metrics');
    assert.match(m.text, /^sentc_backend_requests_total\{program="me",method="GET",status="200"\} 1$/m);
  });

  it('ships an example config with every key, which passes the check once the dashboard values are in', () => {
    const example = path.join(prefix, 'share/sentc-backend/backend.env.example');
    const text = fs.readFileSync(example, 'utf8');
    const src = fs.readFileSync(path.join(TOP, 'lib/sb_config.c'), 'utf8');
    const keys = [...src.matchAll(/^\s*\{ "(SENTC_[A-Z0-9_]+)"/gm)].map((m) => m[1]);
    assert.ok(keys.length > 20);
    for (const k of keys) assert.match(text, new RegExp(`^#?${k}=`, 'm'), k);
    const dev = fs.readFileSync(path.join(TOP, 'tests/integration/fixtures/dev.env'), 'utf8');
    const val = (k) => new RegExp(`^${k}=(.*)$`, 'm').exec(dev)[1];
    const db = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-install-db-'));
    const env = { PATH: process.env.PATH, SENTC_BACKEND_DB: path.join(db, 'check.db') };
    for (const k of ['SENTC_PUBLIC_TOKEN', 'SENTC_SECRET_TOKEN', 'SENTC_JWT_KEY_ID', 'SENTC_JWT_VERIFY_KEY']) env[k] = val(k);
    const r = spawnSync(path.join(prefix, 'libexec/sentc-backend/register'), ['-t', '-c', example], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    const bare = spawnSync(path.join(prefix, 'libexec/sentc-backend/register'), ['-t', '-c', example],
      { encoding: 'utf8', env: { PATH: process.env.PATH } });
    assert.equal(bare.status, 78, 'as shipped, it asks for the dashboard values');
    assert.match(bare.stderr, /SENTC_SECRET_TOKEN must not be empty/);
    fs.rmSync(db, { recursive: true, force: true });
  });

  it('ships a man page that man renders without a warning, naming every program and option', () => {
    const page = path.join(prefix, 'share/man/man8/sentc-backend.8');
    const r = spawnSync('man', ['--warnings', '-E', 'UTF-8', '-l', page], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80', MAN_KEEP_FORMATTING: '' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'no warnings');
    for (const p of PROGRAMS) assert.match(r.stdout, new RegExp(`(^|[\\s,])${p}([\\s,]|$)`, 'm'), p);
    for (const o of ['-c config', '-s socket', '-m mode', '-t']) assert.ok(r.stdout.includes(o), o);
    for (const sig of ['SIGHUP', 'SIGTERM']) assert.ok(r.stdout.includes(sig), sig);
  });

  it('uninstalls exactly that: no file left, and none of its directories', () => {
    fs.writeFileSync(path.join(dest, 'usr/local/share/man/man8/other.8'), 'not ours\n');
    make('uninstall', `DESTDIR=${dest}`);
    assert.deepEqual(files(dest), { 'usr/local/share/man/man8/other.8': '644' }, 'only what was not ours');
    for (const d of ['libexec/sentc-backend', 'share/sentc-backend', 'share/doc/sentc-backend'])
      assert.ok(!fs.existsSync(path.join(prefix, d)), d);
  });
});

describe('the systemd units', () => {
  // Installed for real paths under a PREFIX of their own, so that
  // systemd-analyze finds the programs they start.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-units-'));
  const prefix = path.join(root, 'usr');
  const unitDir = path.join(prefix, 'lib/systemd/system');

  before(() => { make('install', `PREFIX=${prefix}`, `SYSCONFDIR=${path.join(root, 'etc')}`); });
  after(() => { fs.rmSync(root, { recursive: true, force: true }); });

  const units = (name) => [`sentc-backend@${name}.service`, `sentc-backend@${name}.socket`].map((u) => path.join(unitDir, u));

  it('pass systemd-analyze verify for every program', () => {
    for (const p of PROGRAMS) {
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...units(p)], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${p}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), '', `${p}: no complaint`);
    }
  });

  it('are hardened: socket activation, a user of its own, read-only system, no privileges; exposure "OK" or better', () => {
    const service = fs.readFileSync(path.join(unitDir, 'sentc-backend@.service'), 'utf8');
    const socket = fs.readFileSync(path.join(unitDir, 'sentc-backend@.socket'), 'utf8');
    for (const line of ['User=sentc-backend', 'ProtectSystem=strict', 'NoNewPrivileges=yes', 'PrivateTmp=yes',
      'StateDirectory=sentc-backend', 'Requires=sentc-backend@%i.socket', 'ExecReload=/bin/kill -HUP $MAINPID'])
      assert.ok(service.split('\n').includes(line), line);
    for (const line of ['ListenStream=/run/sentc-backend/%i.sock', 'SocketGroup=www-data', 'SocketMode=0660'])
      assert.ok(socket.split('\n').includes(line), line);
    const r = spawnSync('systemd-analyze', ['security', '--offline=true', units('register')[0]], { encoding: 'utf8' });
    const m = /Overall exposure level for sentc-backend@register\.service: (\d+\.\d+) (\w+)/.exec(r.stdout + r.stderr);
    assert.ok(m, r.stdout + r.stderr);
    assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]} ${m[2]}`);
  });
});

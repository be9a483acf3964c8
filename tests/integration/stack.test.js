'use strict';
/*
 * nginx/stack (what `make run` runs) beside a stack that already runs: a
 * second one from the same directory, or on the same port, fails at once
 * with a message that says why and what to do, starts nothing that stays,
 * and leaves the first one serving with its files as they were. So does a
 * program started again on the socket of one that serves.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { start, TOP, BUILD, WAIT_MS, STACK_ENV } = require('./harness');

/* nginx/stack CMD with env; its status, stderr and stdout. */
function stack(cmd, env) {
  return spawnSync(path.join(TOP, 'nginx/stack'), [cmd], {
    encoding: 'utf8', timeout: 2 * WAIT_MS, env: { ...STACK_ENV, ...process.env, BUILD, ...env },
  });
}

/* Every file of dir (but logs) with its content and mode. */
function snapshot(dir) {
  const out = {};
  for (const f of ['dev.env', 'config.path', 'sim.port', 'nginx.pid', 'nginx.conf', 'sentc-backend.conf']) {
    const p = path.join(dir, f);
    out[f] = `${(fs.statSync(p).mode & 0o777).toString(8)} ${fs.readFileSync(p, 'utf8')}`;
  }
  for (const f of fs.readdirSync(path.join(dir, 'pids'))) out[`pids/${f}`] = fs.readFileSync(path.join(dir, 'pids', f), 'utf8');
  return out;
}

/* The processes whose command line names dir. */
function processesOf(dir) {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir); } catch { return false; }
  });
}

describe('a second stack beside a running one', () => {
  let s;
  let u;
  let before_;
  before(async () => {
    s = await start();
    u = await s.user('first', { first: true });
    before_ = snapshot(s.dir);
  });
  after(() => s.stop());

  /* The first stack serves as before: its user, its simulator, its files. */
  async function firstServesOn() {
    assert.deepEqual(snapshot(s.dir), before_, 'the first stack\'s files are as they were');
    const h = await s.api('GET', '/backend/health');
    assert.equal(h.status, 200, h.text);
    const me = await s.api('GET', '/backend/me', { headers: u.auth });
    assert.deepEqual(me.json, { status: true, result: { first: true } });
    // The simulator still takes the first stack's secret token.
    await s.user('again', { n: 2 });
  }

  for (const cmd of ['run', 'start']) {
    it(`${cmd} from the same RUN_DIR (another port): refused, naming the stack that runs`, async () => {
      const r = stack(cmd, { RUN_DIR: s.dir, PORT: String(s.port + 1) });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^stack: a stack of ${s.dir} already runs \\(port ${s.port}; pids [\\d ]+\\): `
        + `stop it first \\(Ctrl-C where it runs, or RUN_DIR=${s.dir} nginx/stack stop\\), or start this one with another RUN_DIR$`, 'm'));
      assert.doesNotMatch(r.stderr, /serving/);
      await firstServesOn();
    });
  }

  for (const cmd of ['run', 'start']) {
    it(`${cmd} on the port the first one holds: fails, naming the port and what holds it; nothing of it stays`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-second-'));
      fs.chmodSync(dir, 0o711);
      try {
        const r = stack(cmd, { RUN_DIR: dir, PORT: String(s.port) });
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`^stack: nginx cannot listen on 127\\.0\\.0\\.1:${s.port}: `
          + `bind\\(\\) to 127\\.0\\.0\\.1:${s.port} failed \\(98: Address already in use\\); `
          + 'the port is held by nginx \\(pid \\d+\\)\\. Stop that, or choose another port: make run PORT=\\.\\.\\.$', 'm'));
        assert.doesNotMatch(r.stderr, /serving/);
        assert.deepEqual(processesOf(dir), [], 'none of its processes is left');
        assert.deepEqual(fs.readdirSync(path.join(dir, 'pids')), []);
        await firstServesOn();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('a program started again on the socket its running copy serves on refuses, and leaves the socket to it', async () => {
    const sock = path.join(s.dir, 'sock', 'me.sock');
    const ino = fs.statSync(sock).ino;
    const r = spawnSync(path.join(TOP, BUILD, 'bin/me'), ['-c', fs.readFileSync(path.join(s.dir, 'config.path'), 'utf8').trim()], {
      encoding: 'utf8', timeout: WAIT_MS,
      env: { ...process.env, ...s.env, SENTC_BACKEND_SOCKET_DIR: path.join(s.dir, 'sock'), SENTC_BACKEND_DB: s.db },
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`socket ${sock}: another program serves on it; stop that one first, or give this one another socket`));
    assert.equal(fs.statSync(sock).ino, ino, 'the socket is the running program\'s still');
    await firstServesOn();
  });

  it('stop in another RUN_DIR stops nothing of it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-second-'));
    try {
      assert.equal(stack('stop', { RUN_DIR: dir }).status, 0);
      await firstServesOn();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

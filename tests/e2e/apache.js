'use strict';
/*
 * Debian's Apache httpd in front of a running stack (harness.start()): its
 * own ServerRoot, pid file and logs in a fresh directory, a free loopback
 * port, apache/sentc-backend.conf included unchanged, pointed at the stack's
 * sockets and simulator. Started in the foreground, stopped by stop().
 */
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { freePort, waitFor, WAIT_MS } = require('../lib/common');

const { TOP } = require('../integration/harness');

const APACHE = process.env.SB_APACHE || '/usr/sbin/apache2';
// As root, Apache's workers run as this user (it refuses to serve as root).
const WORKER_USER = 'www-data';


/*
 * As root, the workers are WORKER_USER: they must reach the stack's sockets,
 * as docs/DEPLOY.md says for a deployment (the sockets' group, a directory they
 * may pass through).
 */
function openSockets(stack) {
  const sockDir = path.join(stack.dir, 'sock');
  fs.chmodSync(stack.dir, 0o711);
  fs.chmodSync(sockDir, 0o711);
  for (const f of fs.readdirSync(sockDir)) {
    execFileSync('chgrp', [WORKER_USER, path.join(sockDir, f)]);
  }
}

class Apache {
  constructor(dir, port, child) {
    this.dir = dir;
    this.port = port;
    this.child = child;
    this.base = `http://127.0.0.1:${port}`;
    this.exited = new Promise((resolve) => { child.once('exit', resolve); });
  }

  log() {
    try {
      return fs.readFileSync(path.join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /* Stops httpd (graceful-stop, then TERM) and removes its directory. */
  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), WAIT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    if (!process.env.SB_KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/* Starts Apache in front of `stack`; resolves once /backend/health answers 200 through it. */
async function startApache(stack) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-apache-'));
  const port = await freePort();
  const root = process.getuid() === 0;
  fs.mkdirSync(path.join(dir, 'htdocs'));
  if (root) {
    openSockets(stack);
    fs.chmodSync(dir, 0o711);
  }
  const conf = fs.readFileSync(path.join(TOP, 'apache/dev.conf.in'), 'utf8')
    .replaceAll('@RUN@', dir)
    .replaceAll('@PORT@', String(port))
    .replaceAll('@USER@', root ? `User ${WORKER_USER}\nGroup ${WORKER_USER}` : '')
    .replaceAll('@SOCKETS@', path.join(stack.dir, 'sock'))
    .replaceAll('@API@', stack.simBase)
    .replaceAll('@TOP@', TOP);
  const confFile = path.join(dir, 'httpd.conf');
  fs.writeFileSync(confFile, conf);

  const out = fs.openSync(path.join(dir, 'stderr.log'), 'a');
  const child = spawn(APACHE, ['-d', dir, '-f', confFile, '-DFOREGROUND'], {
    stdio: ['ignore', out, out],
    // Debian's apache2 reads its run-time paths from the environment.
    env: { ...process.env, APACHE_RUN_DIR: dir, APACHE_LOCK_DIR: dir, APACHE_LOG_DIR: dir, APACHE_PID_FILE: path.join(dir, 'httpd.pid') },
  });
  fs.closeSync(out);
  const apache = new Apache(dir, port, child);

  const healthy = async () => {
    try {
      const res = await fetch(`${apache.base}/backend/health`);
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;	// not listening yet
    }
  };
  // Until it answers, or exits (then it never will); a timeout is reported below with the rest.
  const up = await waitFor(async () => (child.exitCode !== null ? 'exited' : (await healthy()) && 'healthy'),
    'apache2 to answer /backend/health').catch(() => 'timed out');
  if (up === 'healthy') return apache;
  const why = fs.readFileSync(path.join(dir, 'stderr.log'), 'utf8') + apache.log();
  await apache.stop();
  throw new Error(`apache2 did not become healthy:\n${why}`);
}

module.exports = { startApache };

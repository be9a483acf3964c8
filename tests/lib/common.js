'use strict';
/*
 * Helpers the test scripts share (the integration harness, the end-to-end
 * and cluster tests, make bench and make soak): waits, ports, env files,
 * processes, HTTP answers and one-time passwords.
 */
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

/* How much slower than usual the programs run (valgrind: 5); every bound below is scaled by it. */
const SLOW = Number(process.env.SB_SLOW || 1);

/*
 * The bound of a wait for something that takes a moment on an idle
 * machine: 60 s (times SLOW), so that a machine busy with other work
 * never overruns it. A test that reaches it has found something that did
 * not happen, not a slow machine.
 */
const WAIT_MS = 60000 * SLOW;

/*
 * Waits until fn() (which may be async) returns a truthy value, polling
 * every 25 ms; resolves with that value. After opts.ms (default WAIT_MS)
 * it throws an error that names what it waited for and, if opts.detail is
 * given, what detail() says of the state it saw last.
 *
 * The older form waitFor(fn, ms, what) is still taken; its ms is then
 * never less than WAIT_MS.
 */
async function waitFor(fn, what, opts = {}) {
  if (typeof what === 'number') {
    opts = { ms: Math.max(what * SLOW, WAIT_MS) };
    what = arguments[2];
  }
  const { ms = WAIT_MS, every = 25, detail } = opts;
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) {
      let more = '';
      if (detail) {
        try { more = `: ${await detail()}`; } catch (e) { more = `: (${e.message})`; }
      }
      throw new Error(`timed out after ${Math.round((Date.now() - t0) / 1000)} s waiting for ${what}${more}`);
    }
    await sleep(every);
  }
}

/* True once pid has exited (a zombie counts as exited). */
function gone(pid) {
  try { process.kill(pid, 0); } catch { return true; }
  try { return /^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; }
}

/* A TCP port on host that nothing listened on when asked. */
function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/* Parses a KEY=VALUE file the way the backend does (enough for tests). */
function readEnv(file) {
  const out = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].replace(/^(["'])(.*)\1$/, '$2');
  }
  return out;
}

/* The child processes of pid; [] if it has none. */
function children(pid) {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim().split('\n').filter(Boolean).map(Number);
  } catch (e) {
    if (e.status === 1) return [];
    throw e;
  }
}

/*
 * Ends req (an http.ClientRequest) with body and resolves with its answer:
 * {status, headers, text, json}, json undefined if the body is not JSON.
 */
function answer(req, body) {
  return new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/*
 * The one-time password of RFC 6238 as sentc's second factor has it
 * (HMAC-SHA256, 6 digits, 30 s steps) for the base32 secret (RFC 4648,
 * no padding) at time t in seconds (default now).
 */
function totp(secret, t = Date.now() / 1000) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const mac = crypto.createHmac('sha256', key).update(counter).digest();
  const o = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1e6).padStart(6, '0');
}

module.exports = { sleep, SLOW, WAIT_MS, waitFor, gone, freePort, readEnv, children, answer, totp };

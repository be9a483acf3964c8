'use strict';
/*
 * Helpers the test scripts share (the integration harness, the end-to-end
 * and cluster tests, make bench and make soak): ports, env files,
 * processes and HTTP answers.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

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

module.exports = { sleep, freePort, readEnv, children, answer };

#!/usr/bin/env node
'use strict';
/*
 * tests/bench/bench.js: the benchmark (`make bench`). It starts the stack
 * (nginx/stack, the plain build) on loopback with the simulator as the
 * upstream, a FastCGI floor program beside it, and measures with wrk, in
 * one run on one machine:
 *
 *   the floors   nginx `return 200`; a minimal libfcgi program through the
 *                same nginx; nginx `proxy_pass` (upstream keep-alive) to
 *                the simulator route a relay calls; the simulator by itself
 *   the routes   prepare_register_device (a pure relay), GET /backend/me,
 *                group access cached and uncached, refresh, register
 *
 * then the latency axis: sentc as far away as it really is. For each delay
 * of BENCH_DELAYS the simulator answers every call that late (POST
 * /__sim/delay), and each route that calls sentc runs against nginx
 * `proxy_pass` to the same delayed simulator (its floor, in the same run),
 * with wrk -c BENCH_DELAY_CONNECTIONS: req/s, the ratio, p50 and p99, the
 * most requests at the simulator at once and the connections opened; each
 * program's memory (RSS and PSS, /proc/PID/smaps_rollup, master and
 * workers) idle at the start and after the runs at each delay.
 *
 * then file parts (docs/FILES.md): BENCH_FILES MiB in the SDK's 4 MiB parts,
 * uploaded one after another as the SDK sends them (each registered at the
 * simulator and kept by the store SENTC_BACKEND_FILE_STORE names), then
 * downloaded the same way, in MB/s, against dd on the same disk: a write
 * of as many 4 MiB blocks, each synced (oflag=dsync, as the store syncs
 * each part), and a read of that file (both from the page cache, as the
 * downloads are);
 *
 * then a soak: every route at once for BENCH_SOAK seconds, with each
 * worker's resident memory before and after; then the JWT cache's hot path
 * under callgrind (a token seen before must cost a hash lookup, not an
 * ECDSA verify). Upstream connections are counted where they arrive: the
 * simulator's accepted connections (GET /__sim/stats) during each run.
 *
 * Writes build/bench/: results.json, report.md (the tables), throughput.dat
 * and throughput.png (gnuplot). Stops everything it started, also on
 * Ctrl-C or an error. Environment (all optional):
 *   BENCH_SECONDS (3), BENCH_ROUNDS (3)   each case runs ROUNDS times
 *                      BENCH_SECONDS, in turn with the cases it is compared
 *                      with, after a 1 s warm-up
 *   BENCH_SOAK (60)    length of the soak; 0 skips it
 *   BENCH_CONNECTIONS (32), BENCH_THREADS (2)   wrk's -c and -t
 *   BENCH_CASES        only these cases (comma-separated ids; floors are
 *                      kept), for tuning one route
 *   BENCH_CALLGRIND (1)  0 skips the callgrind check
 *   BENCH_SEARCH_ITEMS (1000)  searchable items in the bench group
 *   BENCH_DELAYS ("0,20,80")  the latency axis: sentc's delays in ms; ""
 *                      skips it
 *   BENCH_DELAY_CONNECTIONS (64)  wrk's -c on the latency axis (a delayed
 *                      upstream needs many requests in flight)
 *   SENTC_BACKEND_WORKERS (4)   workers per program
 *   BENCH_FILES (64)   MiB of file parts for the file section (below); 0
 *                      skips it
 *   BENCH_BUILD (build)  the build whose programs run (another one for an A/B)
 *   BENCH_DIR (build/bench)
 */

const { spawn, spawnSync, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { sleep, freePort, answer } = require('../lib/common');
const { registerInput } = require('../sentc-sim/input');

const TOP = path.resolve(__dirname, '../..');
const BUILD = process.env.BENCH_BUILD || 'build';
const BIN = path.join(TOP, BUILD, 'bin');
const OUT = path.resolve(process.env.BENCH_DIR || path.join(TOP, 'build/bench'));
const RUN = path.join(OUT, 'run');
const SOCK = path.join(RUN, 'bench-sock');
const LUA = path.join(__dirname, 'wrk.lua');

const SECONDS = num('BENCH_SECONDS', 3);
const ROUNDS = num('BENCH_ROUNDS', 3);
const WARMUP = 1;
const SOAK = num('BENCH_SOAK', 60);
const CONNS = num('BENCH_CONNECTIONS', 32);
const THREADS = num('BENCH_THREADS', 2);
const CALLGRIND = num('BENCH_CALLGRIND', 1) !== 0;
const ONLY = process.env.BENCH_CASES ? new Set(process.env.BENCH_CASES.split(',')) : null;
const GROUPS = 250000; // fresh groups for the uncached access checks
const DEFAULT_WORKERS = 4;
const CALLGRIND_HITS = 200;
const DELAYS = delays('BENCH_DELAYS', '0,20,80');
const SEARCH_ITEMS = Number(process.env.BENCH_SEARCH_ITEMS || 1000);
const DELAY_CONNS = num('BENCH_DELAY_CONNECTIONS', 64);
const FILES_MIB = num('BENCH_FILES', 64);
const FILE_PART = 4 * 1024 * 1024; // the SDK's part size
// The targets of issue 18 on the latency axis: a route's req/s over proxy_pass's at the same
// delay (at 0 ms: the single calls; above: two calls to sentc, register, need less), and the p99
// of the single calls at 80 ms and more over proxy_pass's.
const SINGLE_CALLS = new Set(['relay', 'light-uncached', 'refresh']);
const delayTarget = (id, d) => {
  if (d === 0) return SINGLE_CALLS.has(id) ? 0.65 : null;
  if (SINGLE_CALLS.has(id)) return 0.90;
  return id === 'register' ? 0.45 : null;
};
const P99_TARGET = 1.5;
const P99_FROM_MS = 80;
// The memory of all programs: today's with 2 workers per program (issue 18), in KiB.
const PSS_TARGET_KB = 45 * 1024;

/* A comma-separated list of whole numbers (ms); "" is none. */
function delays(name, dflt) {
  const v = process.env[name] === undefined ? dflt : process.env[name];
  if (v.trim() === '') return [];
  return v.split(',').map((x) => {
    if (!/^\s*\d+\s*$/.test(x) || Number(x) > 600000) throw new Error(`${name} must be whole numbers of ms, comma-separated`);
    return Number(x);
  });
}

function num(name, dflt) {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v)) throw new Error(`${name} must be a whole number`);
  return Number(v);
}

// The programs refuse to serve as root unless SENTC_BACKEND_USER says so
// (nginx/stack does the same for the stack; the callgrind step starts a
// program itself).
if (process.getuid() === 0 && process.env.SENTC_BACKEND_USER === undefined) process.env.SENTC_BACKEND_USER = 'root';

const say = (...a) => process.stderr.write(`bench: ${a.join(' ')}\n`);

// ---------------------------------------------------------------------------------------------
// Processes: everything started is remembered and stopped on the way out.

const children = new Set();
let stackStarted = false;

function startChild(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function stopAll() {
  if (stackStarted) {
    try {
      execFileSync(path.join(TOP, 'nginx/stack'), ['stop'], { env: { ...process.env, RUN_DIR: RUN }, stdio: 'ignore' });
    } catch { /* already down */ }
    stackStarted = false;
  }
  for (const c of children) {
    try { c.kill('SIGTERM'); } catch { /* gone */ }
  }
}

async function stopAllAndWait() {
  stopAll();
  for (let i = 0; i < 100 && children.size > 0; i++) await sleep(50);
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch { /* gone */ }
  }
}

process.on('SIGINT', () => { stopAll(); process.exit(130); });
process.on('SIGTERM', () => { stopAll(); process.exit(143); });

// ---------------------------------------------------------------------------------------------
// HTTP for set-up and checks (not for measuring)

function request(port, method, p, { headers = {}, body } = {}) {
  const data = body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body));
  const h = { ...headers };
  if (data !== undefined) {
    h['content-type'] = h['content-type'] || 'application/json';
    h['content-length'] = Buffer.byteLength(data);
  }
  const req = http.request({ host: '127.0.0.1', port, method, path: p, headers: h, agent: false });
  req.setTimeout(30000, () => req.destroy(new Error(`${method} ${p}: timed out`)));
  return answer(req, data);
}

function mustOk(res, what) {
  if (res.status !== 200 || !res.json || res.json.status !== true) {
    throw new Error(`${what}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
  }
  return res.json.result;
}

// ---------------------------------------------------------------------------------------------
// /proc: resident memory, CPU time, the machine

const TICK = 100; // USER_HZ on Linux

function readProc(pid, file) {
  try { return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8'); } catch { return null; }
}

function statOf(pid) {
  const s = readProc(pid, 'stat');
  if (s === null) return null;
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICK };
}

function rssKb(pid) {
  const s = readProc(pid, 'status');
  const m = s && /^VmRSS:\s+(\d+) kB/m.exec(s);
  return m ? Number(m[1]) : null;
}

/* Resident and proportional memory of a process in KiB, from smaps_rollup. */
function memOf(pid) {
  const s = readProc(pid, 'smaps_rollup');
  if (s === null) return null;
  const kb = (key) => { const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(s); return m ? Number(m[1]) : 0; };
  return { rss_kb: kb('Rss'), pss_kb: kb('Pss') };
}

function allPids() {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

function childrenOf(pid) {
  return allPids().filter((p) => { const st = statOf(p); return st && st.ppid === pid; });
}

function cpuOf(pids) {
  return pids.reduce((sum, p) => { const st = statOf(p); return sum + (st ? st.cpu : 0); }, 0);
}

/* Busy and total CPU seconds of the whole machine, from /proc/stat. */
function machineCpu() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] || 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / TICK, total: total / TICK };
}

function loadavg() {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

/* Processes of other work that would disturb a measurement: test runs, servers, compilers. */
function otherActivity() {
  const mine = new Set();
  for (let p = process.pid; p > 1;) {
    mine.add(p);
    const st = statOf(p);
    if (!st) break;
    p = st.ppid;
  }
  const names = /^(node|nginx|wrk|make|valgrind|cc1|cc|clang|ld|postgres|apache2|chrome|chromium|php-fpm|sqlite3|fuzz.*|driver_.*|test_.*)$/;
  const found = [];
  for (const p of allPids()) {
    if (mine.has(p)) continue;
    const comm = (readProc(p, 'comm') || '').trim();
    if (names.test(comm)) found.push(comm);
  }
  const counts = {};
  for (const c of found) counts[c] = (counts[c] || 0) + 1;
  return counts;
}

/* The first line a command prints, on either stream (nginx -v and wrk -v use stderr). */
function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout || ''}${r.stderr || ''}`.split('\n')[0].trim();
}

function pkgVersion(pkg) {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' }).trim();
  } catch { return '?'; }
}

/* The median time of a 4 KiB write and fdatasync in OUT: a commit's floor. */
function fsyncMicros() {
  const file = path.join(OUT, 'fsync.probe');
  const fd = fs.openSync(file, 'w');
  const buf = Buffer.alloc(4096, 1);
  const t = [];
  try {
    for (let i = 0; i < 100; i++) {
      const t0 = process.hrtime.bigint();
      fs.writeSync(fd, buf, 0, buf.length, (i % 16) * 4096);
      fs.fdatasyncSync(fd);
      t.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  } finally {
    fs.closeSync(fd);
    fs.unlinkSync(file);
  }
  return Math.round(median(t));
}

function machine() {
  const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = (/^model name\s*:\s*(.*)$/m.exec(cpu) || [])[1] || '?';
  return {
    cpu: model,
    cores: os.cpus().length,
    memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    os: ((/^PRETTY_NAME="?([^"\n]*)"?/m.exec(fs.readFileSync('/etc/os-release', 'utf8')) || [])[1]) || '?',
    nginx: firstLine('nginx', ['-v']).replace(/^nginx version: /, ''),
    node: process.version,
    wrk: firstLine('wrk', ['-v']).split(' ').slice(0, 2).join(' '),
    libfcgi: pkgVersion('libfcgi0ldbl'),
    libcurl: pkgVersion('libcurl4'),
    openssl: pkgVersion('libssl3'),
    sqlite: pkgVersion('libsqlite3-0'),
    json_c: pkgVersion('libjson-c5'),
    fsync_us: fsyncMicros(),
  };
}

// ---------------------------------------------------------------------------------------------
// The stack

/* The run's config: fresh tokens and keys, as nginx/stack makes them for
 * `make run`; the simulator's URL is added once it listens. */
function writeConfig(file, workers) {
  const { genKeyEnv } = require(path.join(TOP, 'tests/sentc-sim/keys.js'));
  const k = genKeyEnv();
  const tok = () => crypto.randomBytes(32).toString('base64url');
  const env = {
    SENTC_PUBLIC_TOKEN: tok(),
    SENTC_SECRET_TOKEN: tok(),
    SENTC_JWT_KEY_ID: k.kid,
    SENTC_JWT_VERIFY_KEY: k.verifyKeyB64,
    SENTC_JWT_SIGN_KEY: k.signKeyB64,
    SENTC_BACKEND_COOKIE_KEY: crypto.randomBytes(32).toString('base64'),
    SENTC_BACKEND_DB: path.join(RUN, 'backend.db'),
  };
  if (workers !== undefined) env.SENTC_BACKEND_WORKERS = workers;
  const lines = Object.entries(env).map(([key, v]) => `${key}=${v}`);
  fs.writeFileSync(file, `# Made by tests/bench/bench.js for one run.\n${lines.join('\n')}\n`, { mode: 0o600 });
  return env;
}

async function startSim(configFile) {
  const sim = startChild(process.execPath, [path.join(TOP, 'tests/sentc-sim/sim.js'), '--config', configFile, '--port', '0']);
  let out = '';
  let err = '';
  sim.stderr.on('data', (d) => { err += d; });
  const port = await new Promise((resolve, reject) => {
    sim.stdout.on('data', (d) => {
      out += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    sim.on('exit', (code) => reject(new Error(`the simulator exited (${code}): ${err}`)));
  });
  return { proc: sim, port };
}

async function waitForSocket(file, proc, what) {
  for (let i = 0; i < 600; i++) {
    if (fs.existsSync(file)) return;
    if (proc.exitCode !== null) throw new Error(`${what} exited (${proc.exitCode})`);
    await sleep(50);
  }
  throw new Error(`${what}: no socket ${file}`);
}

function siteConf() {
  return `# The benchmark's floors, beside the backend's locations.
location = /bench/return200 {
	default_type application/json;
	return 200 '{"status":true,"result":"Success"}';
}

# The FastCGI floor on the routes' terms: an upstream kept alive as theirs,
# the same connection loop (lib/sb_serve.c and lib/sb_fcgi.c).
location = /bench/floor {
	fastcgi_pass bench_floor;
	include fastcgi_params;
}

# The same program on libfcgi's own loop: a connection per request.
location = /bench/floor-libfcgi {
	fastcgi_keep_conn off;
	fastcgi_pass unix:${SOCK}/floor-libfcgi.sock;
	include fastcgi_params;
}

# The floor for relays: nginx itself to the simulator, connections kept.
location /bench/proxy/ {
	proxy_pass http://bench_sim/;
}
`;
}

function httpConf(simPort, cgPort) {
  return `upstream bench_sim {
	server 127.0.0.1:${simPort};
	keepalive 64;
}

# As nginx/sentc-backend-upstreams.conf has the route programs.
upstream bench_floor {
	server unix:${SOCK}/floor.sock;
	keepalive 32;
}

# GET /backend/me of one more me program, under callgrind.
server {
	listen 127.0.0.1:${cgPort};
	location = /backend/me {
		fastcgi_pass unix:${SOCK}/me-callgrind.sock;
		include fastcgi_params;
	}
}
`;
}

function startStack(port, configFile, workers) {
  fs.writeFileSync(path.join(OUT, 'site.conf'), siteConf());
  const env = {
    ...process.env,
    RUN_DIR: RUN,
    PORT: String(port),
    BUILD,
    SENTC_CONFIG: configFile,
    SITE_CONF: path.join(OUT, 'site.conf'),
    HTTP_CONF: path.join(OUT, 'http.conf'),
  };
  delete env.SIM;
  if (workers !== undefined) env.SENTC_BACKEND_WORKERS = String(workers);
  stackStarted = true;
  execFileSync(path.join(TOP, 'nginx/stack'), ['start'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
}

/* The workers of each program: the master's pid is in run/pids/NAME. */
function workersByProgram() {
  const out = {};
  for (const name of fs.readdirSync(path.join(RUN, 'pids'))) {
    if (name === 'nginx') continue;
    const master = Number(fs.readFileSync(path.join(RUN, 'pids', name), 'utf8'));
    out[name] = { master, workers: childrenOf(master).sort((a, b) => a - b) };
  }
  return out;
}

function nginxPids() {
  const master = Number(fs.readFileSync(path.join(RUN, 'nginx.pid'), 'utf8'));
  return [master, ...childrenOf(master)];
}

// ---------------------------------------------------------------------------------------------
// The cases

/*
 * Each case: id, label, kind (floor, proxy, sim, route), the program whose
 * workers serve it (route cases), what it is compared with, and the wrk
 * request: target (stack or sim), method, path, headers, body, groups.
 */
function cases(ctx) {
  const { jwt, refreshToken, cookie, gid, env } = ctx;
  const bearer = `Authorization: Bearer ${jwt}`;
  const json = 'Content-Type: application/json';
  const pub = `x-sentc-app-token: ${env.SENTC_PUBLIC_TOKEN}`;
  const sec = `x-sentc-app-token: ${env.SENTC_SECRET_TOKEN}`;
  const prd = { method: 'POST', body: '{"device_identifier":"{uniq}"}' };
  const light = { path: '/api/v1/group/{gid}/light', groups: true };
  const refresh = { method: 'PUT', body: JSON.stringify({ refresh_token: refreshToken }) };
  // A register body of today's shape, without its closing brace.
  const reg = JSON.stringify(registerInput('{uniq}')).slice(0, -1);
  const relays = [
    {
      id: 'relay', label: 'relay: prepare_register_device', program: 'register-device', floor: 'proxy-relay',
      target: 0.60, route: { ...prd, path: '/api/v1/user/prepare_register_device', headers: [json] },
      upstream: { ...prd, path: '/api/v1/user/prepare_register_device', headers: [json, pub] },
    },
    {
      id: 'light-uncached', label: 'group access, uncached', program: 'group', floor: 'proxy-light-uncached',
      target: 0.60, route: { ...light, headers: [bearer] }, upstream: { ...light, headers: [bearer, pub] },
    },
    {
      id: 'refresh', label: 'refresh (cookie)', program: 'refresh', floor: 'proxy-refresh', target: 0.50,
      route: { path: '/backend/refresh', headers: [bearer, `Cookie: ${cookie}`] },
      upstream: { ...refresh, path: '/api/v1/refresh', headers: [bearer, json, pub] },
    },
    {
      id: 'register', label: 'register (with user_data)', program: 'register', floor: 'proxy-register',
      target: null,
      route: { method: 'POST', path: '/api/v1/register', headers: [json], body: `${reg},"user_data":{"display_name":"Bench"}}` },
      upstream: { method: 'POST', path: '/api/v1/register', headers: [json, sec], body: `${reg}}` },
    },
  ];
  const list = [
    { id: 'return200', label: 'nginx return 200', kind: 'floor', req: { path: '/bench/return200' } },
    { id: 'floor-libfcgi', label: "FastCGI floor, libfcgi's own loop", kind: 'floor', req: { path: '/bench/floor-libfcgi' } },
    { id: 'floor', label: 'FastCGI floor (kept connections)', kind: 'floor', req: { path: '/bench/floor' } },
    {
      id: 'me', label: 'GET /backend/me', kind: 'route', program: 'me', floor: 'floor', target: 0.70,
      req: { path: '/backend/me', headers: [bearer] },
    },
    {
      id: 'light-cached', label: 'group access, cached', kind: 'route', program: 'group', floor: 'floor', target: 0.70,
      req: { path: `/api/v1/group/${gid}/light`, headers: [bearer] },
    },
    {
      id: 'search-hash', label: `items: by hash (${SEARCH_ITEMS} items, 20 a hash)`, kind: 'route', program: 'items', floor: 'floor',
      req: { path: `/backend/groups/${gid}/items?hash=${ctx.searchHash}&limit=20`, headers: [bearer] },
    },
    {
      id: 'search-sort', label: `items: a sortable range (${SEARCH_ITEMS} items, 20 a page)`, kind: 'route', program: 'items', floor: 'floor',
      req: { path: `/backend/groups/${gid}/items?sort=date&min=${SEARCH_ITEMS * 250}&order=desc&limit=20`, headers: [bearer] },
    },
  ];
  for (const r of relays) {
    list.push({
      id: r.floor, label: `proxy_pass: ${r.label.replace(/ \(.*\)$/, '')}`, kind: 'proxy', of: r.id,
      req: { ...r.upstream, path: `/bench/proxy${r.upstream.path}` },
    });
    list.push({ id: `sim-${r.id}`, label: `simulator alone: ${r.label.replace(/ \(.*\)$/, '')}`, kind: 'sim', of: r.id, req: { ...r.upstream, sim: true } });
    list.push({
      id: r.id, label: r.label, kind: 'route', program: r.program, floor: r.floor, target: r.target, req: r.route,
    });
  }
  return list;
}

// ---------------------------------------------------------------------------------------------
// wrk

let runSeq = 0;

/* One wrk process; resolves its figures (see wrk.lua). */
function wrk(ctx, req, seconds, { connections = CONNS, threads = THREADS, groupFrom = 1 } = {}) {
  const port = req.sim ? ctx.simPort : ctx.port;
  const out = path.join(OUT, `wrk-${process.pid}-${++runSeq}.json`);
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s', '--latency', '-s', LUA];
  for (const h of req.headers || []) args.push('-H', withJwt(ctx, h));
  args.push(`http://127.0.0.1:${port}${req.path}`);
  const env = {
    ...process.env,
    BENCH_METHOD: req.method || 'GET',
    BENCH_RUN: `r${runSeq}x${crypto.randomBytes(4).toString('hex')}`,
    BENCH_OUT: out,
    BENCH_THREADS: String(threads),
  };
  delete env.BENCH_BODY;
  delete env.BENCH_GROUPS;
  if (req.body !== undefined) env.BENCH_BODY = req.body;
  if (req.groups) {
    env.BENCH_GROUPS = ctx.groupsFile;
    env.BENCH_GROUP_FROM = String(groupFrom);
  }
  return new Promise((resolve, reject) => {
    const p = startChild('wrk', args, { env });
    let err = '';
    p.stdout.resume();
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => {
      let figures;
      try {
        figures = JSON.parse(fs.readFileSync(out, 'utf8'));
        fs.unlinkSync(out);
      } catch {
        reject(new Error(`wrk ${req.path}: exit ${code}, no figures: ${err}`));
        return;
      }
      figures.rps = figures.requests / (figures.duration_us / 1e6);
      figures.errors_total = Object.values(figures.errors).reduce((a, b) => a + b, 0);
      resolve(figures);
    });
  });
}

/* One request as wrk would send it, checked to be a success. */
async function checkCase(ctx, c) {
  const r = c.req;
  const headers = {};
  for (const h0 of r.headers || []) {
    const h = withJwt(ctx, h0);
    const i = h.indexOf(':');
    headers[h.slice(0, i).toLowerCase()] = h.slice(i + 1).trim();
  }
  const body = r.body === undefined ? undefined : r.body.replace('{uniq}', `check-${c.id}-${crypto.randomUUID()}`);
  const p = r.groups ? r.path.replace('{gid}', ctx.gids[ctx.gids.length - 1]) : r.path;
  const res = await request(r.sim ? ctx.simPort : ctx.port, r.method || 'GET', p, { headers, body });
  if (c.id === 'refresh') {
    if (res.status !== 200 || !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(res.text)) {
      throw new Error(`${c.id}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
    }
    return;
  }
  mustOk(res, c.id);
}

function cpuSnapshot(ctx, program) {
  const w = program ? workersByProgram()[program].workers : [];
  return {
    machine: machineCpu(),
    sim: cpuOf([ctx.sim.proc.pid]),
    nginx: cpuOf(nginxPids()),
    backend: cpuOf(w),
    floor: cpuOf(ctx.floorPids()),
  };
}

async function simStats(ctx) {
  return (await request(ctx.simPort, 'GET', '/__sim/stats')).json;
}

let groupCursor = 1;

/* Waits (up to 60 s) until the simulator handles no request. */
async function quietSim(ctx) {
  for (let i = 0; i < 1200; i++) {
    if ((await simStats(ctx)).in_flight === 0) return;
    await sleep(50);
  }
  say('the simulator still handles requests of the last run after 60 s; going on');
}

const median = (xs) => {
  const v = xs.filter((x) => x !== null && !Number.isNaN(x)).sort((p, q) => p - q);
  if (v.length === 0) return null;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

/*
 * One measured run of a case. A backend route that asks about groups takes
 * each group once: every run of it (warm-up included) gets a range of the
 * list no other run used, so that no answer can come from the access
 * cache. The floors start at the top (the simulator and nginx cache
 * nothing).
 */
async function runOnce(ctx, c, seconds, { connections = CONNS } = {}) {
  const fresh = c.req.groups && c.kind === 'route';
  // What the last run left in flight (wrk stops with requests unanswered; nginx and the programs
  // still finish them) ends first; then the most requests at the simulator at once counts from here.
  await quietSim(ctx);
  const s0 = (await request(ctx.simPort, 'DELETE', '/__sim/stats')).json;
  const before = cpuSnapshot(ctx, c.program);
  const t0 = Date.now();
  const fig = await wrk(ctx, c.req, seconds, { connections, groupFrom: fresh ? groupCursor : 1 });
  const wall = (Date.now() - t0) / 1000;
  const after = cpuSnapshot(ctx, c.program);
  const s1 = await simStats(ctx);
  // Past every group the run sent, answered or not (an unanswered one may be in the cache now).
  if (fresh) groupCursor += Math.max(fig.group_span, fig.requests) + THREADS;
  // The stats call itself is a connection and a request.
  fig.upstream_connections = s1.connections - s0.connections - 1;
  fig.upstream_requests = s1.requests - s0.requests - 1;
  fig.upstream_in_flight_max = s1.in_flight_max;
  fig.cpu_s = {
    sim: after.sim - before.sim, nginx: after.nginx - before.nginx,
    backend: after.backend - before.backend, floor: after.floor - before.floor,
    busy: after.machine.busy - before.machine.busy, total: after.machine.total - before.machine.total,
  };
  fig.wall_s = wall;
  return fig;
}

/* The rounds of one case in one figure: medians, sums, CPU over all rounds. */
function combine(c, runs, warm) {
  const sum = (f) => runs.reduce((a, r) => a + f(r), 0);
  const cpu = {};
  for (const k of ['sim', 'nginx', 'backend', 'floor', 'busy', 'total']) cpu[k] = sum((r) => r.cpu_s[k]);
  const wall = sum((r) => r.wall_s);
  const pct = (x) => Math.round((100 * x) / wall);
  const errors = {};
  for (const k of Object.keys(runs[0].errors)) errors[k] = sum((r) => r.errors[k]);
  const fig = {
    rps: median(runs.map((r) => r.rps)),
    rounds_rps: runs.map((r) => Math.round(r.rps)),
    requests: sum((r) => r.requests),
    latency_us: {
      p50: median(runs.map((r) => r.latency_us.p50)),
      p90: median(runs.map((r) => r.latency_us.p90)),
      p99: median(runs.map((r) => r.latency_us.p99)),
      max: Math.max(...runs.map((r) => r.latency_us.max)),
    },
    errors,
    errors_total: Object.values(errors).reduce((a, b) => a + b, 0) + warm.errors_total,
    upstream_connections: sum((r) => r.upstream_connections) + warm.upstream_connections,
    upstream_requests: sum((r) => r.upstream_requests) + warm.upstream_requests,
    upstream_in_flight_max: Math.max(warm.upstream_in_flight_max, ...runs.map((r) => r.upstream_in_flight_max)),
    cpu: {
      machine_busy_pct: Math.round((100 * cpu.busy) / cpu.total * os.cpus().length),
      sim_pct: pct(cpu.sim), nginx_pct: pct(cpu.nginx), backend_pct: pct(cpu.backend), floor_pct: pct(cpu.floor),
    },
  };
  if (c.req.groups && c.kind === 'route') {
    fig.group_wraps = sum((r) => r.group_wraps) + warm.group_wraps;
    fig.fresh_groups = fig.group_wraps === 0;
  }
  if (c.program) fig.workers = workersByProgram()[c.program].workers.length;
  return fig;
}

/*
 * A set of cases compared with each other (a route and its floors): each
 * is checked and warmed up, then the set runs ROUNDS times in turn, so
 * that a change in the machine's load meets all of them alike. A ratio is
 * the median of the rounds' ratios.
 */
/*
 * Today's JWTs live 300 s, and a run takes longer: each set runs with one
 * at most two minutes old, fetched as the SDK would get a fresh one. The
 * cases' headers name the first; withJwt() puts the current one in.
 */
async function freshJwt(ctx) {
  if (Date.now() - ctx.jwtAt < 120000) return;
  const s = (await request(ctx.simPort, 'POST', '/__sim/session', { body: { device_identifier: 'bench-user' } })).json;
  if (!s || !s.ok) throw new Error('no fresh session from the simulator');
  ctx.jwt = s.jwt;
  ctx.jwtAt = Date.now();
}

function withJwt(ctx, header) {
  return ctx.jwt0 ? header.split(ctx.jwt0).join(ctx.jwt) : header;
}

async function runSet(ctx, set, results, opts = {}) {
  await freshJwt(ctx);
  const runs = new Map(set.map((c) => [c.id, []]));
  const warm = new Map();
  for (const c of set) {
    await checkCase(ctx, c);
    warm.set(c.id, await runOnce(ctx, c, WARMUP, opts));
  }
  // The simulator's ceiling is a figure of its own, not a ratio: one run.
  const rounds = set.filter((c) => c.kind !== 'sim');
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of rounds) runs.get(c.id).push(await runOnce(ctx, c, SECONDS, opts));
  }
  for (const c of set.filter((x) => x.kind === 'sim')) runs.get(c.id).push(await runOnce(ctx, c, SECONDS, opts));
  for (const c of set) {
    const f = combine(c, runs.get(c.id), warm.get(c.id));
    f.round_ratios = {};
    for (const other of rounds) {
      if (other.id !== c.id && c.kind !== 'sim') {
        f.round_ratios[other.id] = runs.get(c.id).map((x, i) => x.rps / runs.get(other.id)[i].rps);
      }
    }
    results[c.id] = f;
    say(`${opts.label ? `${opts.label} ` : ''}${c.id}: ${f.rps.toFixed(0)} req/s (rounds ${f.rounds_rps.join(', ')}), p50 ${ms(f.latency_us.p50)} ms, `
      + `p99 ${ms(f.latency_us.p99)} ms${f.errors_total ? `, ${f.errors_total} ERRORS ${JSON.stringify(f.errors)}` : ''}`
      + `${f.group_wraps ? `, group list wrapped ${f.group_wraps} times` : ''}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Set-up of the data the routes need

/* One binary request: resolves with {status, body (a Buffer)}. */
function binRequest(port, method, p, headers, body) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body !== undefined) h['content-length'] = body.length;
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers: h, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    req.setTimeout(60000, () => req.destroy(new Error(`${method} ${p}: timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/* dd's figure: the bytes and seconds of its last line, in MB/s. */
function ddRate(args) {
  const r = spawnSync('dd', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dd ${args.join(' ')}: ${r.stderr}`);
  const m = /^(\d+) bytes .* copied, ([\d.,]+) s/m.exec(r.stderr);
  if (!m) throw new Error(`dd said: ${r.stderr}`);
  return Number(m[1]) / 1e6 / Number(m[2].replace(',', '.'));
}

/*
 * The file section: BENCH_FILES MiB in 4 MiB parts up and down, one part
 * at a time as the SDK sends them, and dd on the same folder.
 */
async function filesBench(ctx) {
  const { port, simPort } = ctx;
  const cfg = Object.fromEntries(fs.readFileSync(ctx.configFile, 'utf8').split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const app = { 'x-sentc-app-token': cfg.SENTC_PUBLIC_TOKEN };
  const auth = { authorization: `Bearer ${ctx.jwt}` };
  const store = process.env.SENTC_BACKEND_FILE_STORE || 'dir';
  const dir = process.env.SENTC_BACKEND_FILE_DIR || path.join(RUN, 'files');
  const n = Math.max(1, Math.round(FILES_MIB / 4));
  say(`file parts: ${n} × 4 MiB up and down (SENTC_BACKEND_FILE_STORE=${store}), dd in ${dir}`);
  const o = await request(simPort, 'POST', '/__sim/files/options', { body: { file_storage: 1 } });
  if (!o.json || !o.json.ok) throw new Error(`the file options: ${o.text}`);
  const { session_id: session, file_id: fileId } = mustOk(await request(port, 'POST', '/api/v1/file', {
    headers: { ...auth, ...app },
    body: { master_key_id: 'bench', encrypted_key: 'YmVuY2g=', encrypted_key_alg: 'AES-GCM-256', belongs_to_type: 'None' },
  }), 'register a file');
  // curl, one process for all parts, one after another on one connection:
  // a client that costs the machine next to nothing.
  const partFile = path.join(OUT, 'part.bench');
  const part = crypto.randomBytes(FILE_PART);
  fs.writeFileSync(partFile, part);
  const hdr = (h) => Object.entries(h).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const W = ['-s', '-w', '%{http_code} %{size_download}\\n'];	// per URL group (--next resets them)
  const curl = (args) => {
    const t = process.hrtime.bigint();
    const r = spawnSync('curl', args, { encoding: 'utf8', maxBuffer: 1 << 20 });
    const secs = Number(process.hrtime.bigint() - t) / 1e9;
    if (r.status !== 0) throw new Error(`curl: ${r.stderr}`);
    return { secs, lines: r.stdout.split('\n').filter(Boolean) };
  };
  const base = `http://127.0.0.1:${port}`;
  const ups = [];
  for (let i = 1; i <= n; i++) {
    if (i > 1) ups.push('--next');
    ups.push(...W, ...hdr({ ...auth, ...app, 'content-type': 'application/json' }), '-o', '/dev/null',
      '--data-binary', `@${partFile}`, `${base}/backend/files/part/${session}/${i}/${i === n}`);
  }
  const up = curl(ups);
  if (up.lines.length !== n || !up.lines.every((l) => l.startsWith('200 '))) throw new Error(`uploads: ${up.lines.join(', ')}`);
  const upS = up.secs;
  const ids = mustOk(await request(port, 'GET', `/api/v1/file/${fileId}`, { headers: { ...auth, ...app } }), 'the part list')
    .part_list.map((p) => p.part_id);
  if (ids.length !== n) throw new Error(`${ids.length} parts listed, ${n} uploaded`);
  const check = await binRequest(port, 'GET', `/backend/files/part/${ids[0]}`, app);
  if (check.status !== 200 || !check.body.equals(part)) throw new Error(`download of ${ids[0]}: HTTP ${check.status}`);
  const down = curl([...W, ...hdr(app), ...ids.flatMap((id) => ['-o', '/dev/null', `${base}/backend/files/part/${id}`])]);
  if (down.lines.length !== n || !down.lines.every((l) => l === `200 ${FILE_PART}`)) throw new Error(`downloads: ${down.lines.join(', ')}`);
  const downS = down.secs;
  fs.rmSync(partFile, { force: true });
  const bytes = n * FILE_PART;
  const ddFile = path.join(store === 'dir' ? dir : RUN, 'dd.bench');
  const ddWrite = ddRate(['if=/dev/zero', `of=${ddFile}`, 'bs=4M', `count=${n}`, 'oflag=dsync']);
  const ddRead = ddRate([`if=${ddFile}`, 'of=/dev/null', 'bs=4M']);
  fs.rmSync(ddFile, { force: true });
  return {
    store, parts: n, part_bytes: FILE_PART,
    upload_mb_s: bytes / 1e6 / upS, download_mb_s: bytes / 1e6 / downS,
    dd_write_mb_s: ddWrite, dd_read_mb_s: ddRead,
  };
}

function reportFiles(f) {
  return [
    `File parts (SENTC_BACKEND_FILE_STORE=${f.store}): ${f.parts} parts of 4 MiB, one at a time as the SDK sends them, through nginx (curl, one connection); `
      + 'an upload is registered at the simulator (no delay) and synced to the store before it is answered; dd on the same disk, '
      + 'a 4 MiB block each synced (oflag=dsync) and the read of that file.',
    '',
    '| direction | MB/s | dd MB/s | ÷ dd |',
    '|---|---:|---:|---:|',
    `| upload | ${f.upload_mb_s.toFixed(0)} | ${f.dd_write_mb_s.toFixed(0)} (write, dsync) | ${(f.upload_mb_s / f.dd_write_mb_s).toFixed(2)} |`,
    `| download | ${f.download_mb_s.toFixed(0)} | ${f.dd_read_mb_s.toFixed(0)} (read) | ${(f.download_mb_s / f.dd_read_mb_s).toFixed(2)} |`,
  ];
}

async function setUp(ctx) {
  const { port, simPort } = ctx;
  mustOk(await request(port, 'POST', '/api/v1/register', {
    body: { ...registerInput('bench-user'), user_data: { display_name: 'Bench' } },
  }), 'register the bench user');
  const s = (await request(simPort, 'POST', '/__sim/session', { body: { device_identifier: 'bench-user' } })).json;
  if (!s || !s.ok) throw new Error('no session from the simulator');
  ctx.jwt = s.jwt;
  ctx.jwt0 = s.jwt;
  ctx.jwtAt = Date.now();
  ctx.refreshToken = s.refresh_token;
  ctx.userId = s.user_id;

  const sess = await request(port, 'POST', '/backend/session', {
    headers: { authorization: `Bearer ${s.jwt}` }, body: { refresh_token: s.refresh_token },
  });
  mustOk(sess, 'POST /backend/session');
  const set = [].concat(sess.headers['set-cookie'] || []);
  const m = set.length > 0 && /^([^=]+=[^;]+)/.exec(set[0]);
  if (!m) throw new Error('POST /backend/session set no cookie');
  ctx.cookie = m[1];

  ctx.gid = mustOk(await request(port, 'POST', '/api/v1/group', {
    headers: { authorization: `Bearer ${s.jwt}` }, body: { keys: 'bench' },
  }), 'POST /api/v1/group').group_id;

  await searchItems(ctx, s.jwt);

  const g = (await request(simPort, 'POST', '/__sim/groups', { body: { user_id: s.user_id, count: GROUPS } })).json;
  if (!g || !g.ok) throw new Error('no groups from the simulator');
  ctx.gids = g.group_ids;
  ctx.groupsFile = path.join(OUT, 'groups.txt');
  fs.writeFileSync(ctx.groupsFile, `${g.group_ids.join('\n')}\n`);
}

/*
 * The group's searchable items: SEARCH_ITEMS of them, each with one list
 * of three hashes (two prefixes and the word, as createSearchRaw makes
 * them: 43 base64url characters; here of HMAC-SHA256 with a bench key)
 * shared with 1 in 50 of the others, and a sortable "date".
 */
async function searchItems(ctx, jwt) {
  const h = (t) => crypto.createHmac('sha256', 'bench').update(t).digest('base64url');
  for (let i = 0; i < SEARCH_ITEMS; i++) {
    const w = `word${i % 50}`;
    const iid = crypto.randomUUID();
    mustOk(await request(ctx.port, 'PUT', `/backend/groups/${ctx.gid}/items/${iid}`, {
      headers: { authorization: `Bearer ${jwt}` },
      body: { data: crypto.randomBytes(96).toString('base64'), hashes: [[h(w.slice(0, 2)), h(w.slice(0, 4)), h(w)]], sortable: { date: i * 1000 } },
    }), 'PUT an item');
  }
  ctx.searchHash = h('word7');
}

// ---------------------------------------------------------------------------------------------
// The latency axis: sentc delayed, each route that calls it against proxy_pass to the same
// delayed simulator; the programs' memory idle and after the runs at each delay

/* RSS and PSS of each program (master and workers), and of all of them, in KiB. */
function memoryTable() {
  const programs = {};
  const total = { rss_kb: 0, pss_kb: 0, processes: 0 };
  for (const [name, { master, workers }] of Object.entries(workersByProgram())) {
    const m = { rss_kb: 0, pss_kb: 0, processes: 0 };
    for (const pid of [master, ...workers]) {
      const x = memOf(pid);
      if (!x) continue;
      m.rss_kb += x.rss_kb;
      m.pss_kb += x.pss_kb;
      m.processes++;
    }
    programs[name] = m;
    for (const k of Object.keys(total)) total[k] += m[k];
  }
  return { programs, total };
}

async function setDelay(ctx, ms) {
  const r = (await request(ctx.simPort, 'POST', '/__sim/delay', { body: { ms } })).json;
  if (!r || !r.ok || r.delay_ms !== ms) throw new Error(`the simulator took no delay of ${ms} ms: ${JSON.stringify(r)}`);
}

async function latencyAxis(ctx, list, memoryIdle) {
  const routes = list.filter((c) => c.kind === 'route' && c.floor && c.floor !== 'floor');
  const out = { connections: DELAY_CONNS, memory_idle: memoryIdle, delays: [] };
  try {
    for (const d of DELAYS) {
      await setDelay(ctx, d);
      const entry = { delay_ms: d, results: {} };
      for (const c of routes) {
        const set = [list.find((x) => x.id === c.floor), c];
        say(`sentc ${d} ms: ${set.map((x) => x.id).join(', ')}: ${ROUNDS} rounds of ${SECONDS} s, wrk -c${DELAY_CONNS}`);
        await runSet(ctx, set, entry.results, { connections: DELAY_CONNS, label: `sentc ${d} ms:` });
      }
      entry.memory_after = memoryTable();
      out.delays.push(entry);
    }
  } finally {
    await setDelay(ctx, 0);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The soak: every route at once; each worker's resident memory before and after

function rssTable() {
  const out = {};
  for (const [name, { workers }] of Object.entries(workersByProgram())) {
    out[name] = workers.map((pid) => ({ pid, rss_kb: rssKb(pid) }));
  }
  return out;
}

async function soak(ctx, list) {
  await freshJwt(ctx);
  const routes = list.filter((c) => c.kind === 'route');
  const per = Math.max(2, Math.floor(CONNS / routes.length));
  const s0 = await simStats(ctx);
  const before = rssTable();
  say(`soak: ${routes.length} routes at once for ${SOAK} s, ${per} connections each`);
  const figs = await Promise.all(routes.map((c) => wrk(ctx, c.req, SOAK, {
    connections: per, threads: 1, groupFrom: c.req.groups ? groupCursor : 1,
  })));
  const after = rssTable();
  const s1 = await simStats(ctx);
  const workers = [];
  for (const [name, ws] of Object.entries(before)) {
    for (const w of ws) {
      const a = (after[name] || []).find((x) => x.pid === w.pid);
      workers.push({
        program: name, pid: w.pid, before_kb: w.rss_kb, after_kb: a ? a.rss_kb : null,
        growth_pct: a && w.rss_kb ? +((100 * (a.rss_kb - w.rss_kb)) / w.rss_kb).toFixed(2) : null,
        replaced: !a,
      });
    }
  }
  return {
    seconds: SOAK,
    routes: routes.map((c, i) => ({ id: c.id, rps: figs[i].rps, errors: figs[i].errors_total, requests: figs[i].requests })),
    upstream_connections: s1.connections - s0.connections - 1,
    upstream_requests: s1.requests - s0.requests - 1,
    workers,
  };
}

// ---------------------------------------------------------------------------------------------
// callgrind: the JWT cache on the hot path

/* Calls and inclusive instructions per callee, from a callgrind file written
 * with --compress-strings=no --compress-pos=no. */
function callgrindCalls(file) {
  const calls = {};
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  let callee = null;
  let pending = 0;
  for (const line of lines) {
    if (line.startsWith('cfn=')) {
      callee = line.slice(4).replace(/^\(\d+\)\s*/, '');
    } else if (line.startsWith('calls=') && callee !== null) {
      pending = Number(line.slice(6).split(' ')[0]);
    } else if (pending > 0 && /^\d/.test(line)) {
      const cost = Number(line.trim().split(/\s+/)[1] || 0);
      const e = calls[callee] || (calls[callee] = { calls: 0, ir: 0 });
      e.calls += pending;
      e.ir += cost;
      pending = 0;
      callee = null;
    }
  }
  return calls;
}

async function callgrind(ctx) {
  const sock = path.join(SOCK, 'me-callgrind.sock');
  const prefix = path.join(OUT, 'callgrind.out');
  for (const f of fs.readdirSync(OUT)) if (f.startsWith('callgrind.out')) fs.unlinkSync(path.join(OUT, f));
  const vg = startChild('valgrind', ['--tool=callgrind', '--trace-children=yes', '--compress-strings=no',
    '--compress-pos=no', `--callgrind-out-file=${prefix}.%p`, path.join(BIN, 'me'), '-c', ctx.configFile, '-s', sock],
  { env: { ...process.env, SENTC_BACKEND_WORKERS: '1' } });
  let vgErr = '';
  vg.stdout.resume();
  vg.stderr.on('data', (d) => { vgErr = (vgErr + d).slice(-4000); });
  await waitForSocket(sock, vg, 'me under callgrind');
  // A token this program has never seen: the first request verifies it.
  const s = (await request(ctx.simPort, 'POST', '/__sim/session', { body: { device_identifier: 'bench-user' } })).json;
  const headers = { authorization: `Bearer ${s.jwt}` };
  for (let i = 0; i <= CALLGRIND_HITS; i++) {
    let res;
    for (let tries = 0; ; tries++) {
      res = await request(ctx.cgPort, 'GET', '/backend/me', { headers });
      if (res.status !== 502 && res.status !== 503) break;
      if (tries > 200) break;
      await sleep(100); // the worker under valgrind is still starting
    }
    mustOk(res, 'GET /backend/me under callgrind');
  }
  vg.kill('SIGTERM');
  await new Promise((r) => { if (vg.exitCode !== null) r(); else vg.on('exit', r); });
  let best = null;
  for (const f of fs.readdirSync(OUT).filter((x) => x.startsWith('callgrind.out.'))) {
    const calls = callgrindCalls(path.join(OUT, f));
    if (calls.sb_jwt_check && (!best || calls.sb_jwt_check.calls > best.sb_jwt_check.calls)) best = calls;
  }
  if (!best) {
    throw new Error(`callgrind: no profile with sb_jwt_check among ${fs.readdirSync(OUT).filter((x) => x.startsWith('callgrind'))}: ${vgErr}`);
  }
  const pick = (n) => best[n] || { calls: 0, ir: 0 };
  const check = pick('sb_jwt_check');
  const verify = pick('sb_jwt_verify');
  const ecdsa = pick('EVP_DigestVerify');
  const get = pick('sb_cache_get');
  return {
    requests: CALLGRIND_HITS + 1,
    sb_jwt_check: check,
    sb_jwt_verify: verify,
    EVP_DigestVerify: ecdsa,
    sb_cache_get: get,
    sb_cache_key: pick('sb_cache_key'),
    ir_per_verify: verify.calls ? Math.round(verify.ir / verify.calls) : null,
    ir_per_cached_check: check.calls > verify.calls ? Math.round((check.ir - verify.ir) / (check.calls - verify.calls)) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));
const ms = (us) => (us / 1000).toFixed(2);

function report(res) {
  const r = res.results;
  const by = Object.fromEntries(res.cases.map((c) => [c.id, c]));
  const out = [];
  out.push(`Run ${res.started} on ${res.machine.cpu} (${res.machine.cores} cores, ${res.machine.memory_gib} GiB), `
    + `${res.machine.os}, kernel ${res.machine.kernel}; nginx ${res.machine.nginx}, ${res.machine.wrk}, node ${res.machine.node}; `
    + `libfcgi ${res.machine.libfcgi}, libcurl ${res.machine.libcurl}, OpenSSL ${res.machine.openssl}, SQLite ${res.machine.sqlite}, json-c ${res.machine.json_c}; `
    + `a 4 KiB write and fdatasync in build/bench takes ${res.machine.fsync_us} µs (median of 100).`);
  const st = res.settings;
  out.push(`wrk -t${st.threads} -c${st.connections}; each case ${st.rounds} rounds of ${st.seconds} s, in turn with the cases it is compared with, `
    + `after a ${st.warmup} s warm-up; req/s and latencies are the medians of the rounds, a ratio the median of the rounds' ratios; `
    + `${res.workers} workers per program; load average before ${res.load_before.join(' ')}, after ${res.load_after.join(' ')}; `
    + `other processes at the start: ${Object.keys(res.others).length === 0 ? 'none' : JSON.stringify(res.others)}, `
    + `at the end: ${!res.others_after || Object.keys(res.others_after).length === 0 ? 'none' : JSON.stringify(res.others_after)}.`);
  out.push('');
  out.push('| case | req/s | p50 ms | p99 ms | ÷ return 200 | ÷ FastCGI floor | ÷ proxy_pass | ÷ simulator alone | target | met | upstream conns | CPU µs per request: nginx / program / simulator | machine busy % |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---|---:|');
  for (const c of res.cases) {
    const f = r[c.id];
    if (!f) continue;
    // In the same set: the median of the rounds' ratios; else of the medians.
    const rr = (id) => {
      if (f.round_ratios && f.round_ratios[id]) return median(f.round_ratios[id]);
      return r[id] ? f.rps / r[id].rps : null;
    };
    const proxyId = c.kind === 'route' && c.floor && c.floor !== 'floor' ? c.floor : null;
    const simId = proxyId ? `sim-${c.id}` : null;
    const base = c.kind === 'route' ? rr(c.floor) : null;
    const met = c.target ? (base !== null && base >= c.target && f.errors_total === 0 ? 'yes' : 'NO') : '';
    const tgt = c.target ? `≥ ${c.target.toFixed(2)} × ${c.floor === 'floor' ? 'FastCGI floor' : 'proxy_pass'}` : '';
    const cpu = f.cpu;
    const us = (pct) => fmt((pct * 10000) / f.rps);
    const prog = c.id.startsWith('floor') ? cpu.floor_pct : cpu.backend_pct;
    out.push(`| ${c.label}${f.errors_total ? ` (**${f.errors_total} errors**)` : ''} | ${fmt(f.rps)} | ${ms(f.latency_us.p50)} | ${ms(f.latency_us.p99)} `
      + `| ${fmt(rr('return200'), 2)} | ${fmt(rr('floor'), 2)} | ${proxyId ? fmt(rr(proxyId), 2) : ''} | ${simId ? fmt(rr(simId), 2) : ''} `
      + `| ${tgt} | ${met} | ${c.kind === 'route' && c.program ? `${f.upstream_connections} (${f.workers} workers)` : (c.kind === 'proxy' ? f.upstream_connections : '')} `
      + `| ${us(cpu.nginx_pct)} / ${c.kind === 'route' || c.id.startsWith('floor') ? us(prog) : '–'} / ${us(cpu.sim_pct)} | ${cpu.machine_busy_pct} |`);
  }
  if (res.soak) {
    const s = res.soak;
    out.push('');
    out.push(`Soak: ${s.seconds} s, every route at once (${s.routes.map((x) => `${x.id} ${fmt(x.rps)}/s${x.errors ? `, ${x.errors} errors` : ''}`).join('; ')}); `
      + `upstream connections opened: ${s.upstream_connections} for ${s.upstream_requests} upstream requests.`);
    out.push('');
    out.push('| program | worker | RSS at start KiB | RSS before soak KiB | RSS after soak KiB | growth over the soak | target < 5 % |');
    out.push('|---|---:|---:|---:|---:|---:|---|');
    for (const w of s.workers) {
      const start = (res.rss_start[w.program] || []).find((x) => x.pid === w.pid);
      out.push(`| ${w.program} | ${w.pid} | ${start ? start.rss_kb : '–'} | ${w.before_kb} | ${w.after_kb === null ? 'replaced' : w.after_kb} `
        + `| ${w.growth_pct === null ? '–' : `${w.growth_pct.toFixed(2)} %`} | ${w.growth_pct !== null && w.growth_pct < 5 ? 'yes' : 'NO'} |`);
    }
  }
  if (res.callgrind) {
    const g = res.callgrind;
    out.push('');
    out.push(`JWT cache under callgrind, ${g.requests} GET /backend/me with one token: sb_jwt_check ${g.sb_jwt_check.calls} calls, `
      + `sb_jwt_verify ${g.sb_jwt_verify.calls}, EVP_DigestVerify (ECDSA) ${g.EVP_DigestVerify.calls}, sb_cache_get ${g.sb_cache_get.calls}; `
      + `instructions per verify ${g.ir_per_verify}, per cached check ${g.ir_per_cached_check}.`);
  }
  const conns = res.cases.filter((c) => c.kind === 'route' && c.program && r[c.id]);
  const bad = conns.filter((c) => r[c.id].upstream_connections > 2 * r[c.id].workers);
  out.push('');
  out.push(`Upstream connections opened per route run: ${conns.map((c) => `${c.id} ${r[c.id].upstream_connections}`).join(', ')} `
    + `(target ≤ 2 × ${res.workers} workers: ${bad.length === 0 ? 'met' : `NOT met for ${bad.map((c) => c.id).join(', ')}`}).`);
  void by;
  if (res.files) out.push('', ...reportFiles(res.files));
  if (res.latency) out.push('', ...reportLatency(res));
  return `${out.join('\n')}\n`;
}

/* The latency axis: a table of the routes against proxy_pass at each delay, and the memory. */
function reportLatency(res) {
  const L = res.latency;
  const out = [];
  const st = res.settings;
  out.push(`Latency axis: sentc (the simulator) answers every call ${L.delays.map((e) => e.delay_ms).join(', ')} ms late; `
    + `each route that calls sentc against nginx \`proxy_pass\` to the same delayed simulator, wrk -t${st.threads} -c${L.connections}, `
    + `${st.rounds} rounds of ${st.seconds} s in turn after a ${st.warmup} s warm-up; ${res.workers} workers per program. `
    + '"at sentc at once": the most requests the simulator handled at one time during the runs (warm-up included); '
    + '"conns": the connections it accepted.');
  out.push('');
  out.push('| sentc delay | case | req/s | proxy_pass req/s | ÷ proxy_pass | target | met | p50 ms | p99 ms | proxy_pass p50 / p99 ms | p99 ÷ proxy_pass p99 | target | met | at sentc at once: route / proxy_pass | conns: route / proxy_pass |');
  out.push('|---:|---|---:|---:|---:|---|---|---:|---:|---:|---:|---|---|---:|---:|');
  for (const e of L.delays) {
    for (const c of res.cases.filter((x) => x.kind === 'route' && e.results[x.id])) {
      const f = e.results[c.id];
      const p = e.results[c.floor];
      const ratio = f.round_ratios && f.round_ratios[c.floor] ? median(f.round_ratios[c.floor]) : (p ? f.rps / p.rps : null);
      const target = delayTarget(c.id, e.delay_ms);
      const met = target === null ? '' : (ratio !== null && ratio >= target && f.errors_total === 0 ? 'yes' : 'NO');
      const p99r = p && p.latency_us.p99 > 0 ? f.latency_us.p99 / p.latency_us.p99 : null;
      const p99t = SINGLE_CALLS.has(c.id) && e.delay_ms >= P99_FROM_MS ? P99_TARGET : null;
      const p99met = p99t === null ? '' : (p99r !== null && p99r <= p99t ? 'yes' : 'NO');
      const errs = (x) => (x && x.errors_total ? ` (**${x.errors_total} errors**)` : '');
      out.push(`| ${e.delay_ms} ms | ${c.label}${errs(f)} | ${fmt(f.rps)} | ${p ? fmt(p.rps) : '–'}${errs(p)} | ${fmt(ratio, 2)} `
        + `| ${target === null ? '' : `≥ ${target.toFixed(2)}`} | ${met} | ${ms(f.latency_us.p50)} | ${ms(f.latency_us.p99)} `
        + `| ${p ? `${ms(p.latency_us.p50)} / ${ms(p.latency_us.p99)}` : '–'} | ${fmt(p99r, 2)} | ${p99t === null ? '' : `≤ ${p99t.toFixed(1)}`} | ${p99met} `
        + `| ${f.upstream_in_flight_max} / ${p ? p.upstream_in_flight_max : '–'} | ${f.upstream_connections} / ${p ? p.upstream_connections : '–'} |`);
    }
  }
  out.push('');
  const cols = [['idle at the start', L.memory_idle], ...L.delays.map((e) => [`after the ${e.delay_ms} ms runs`, e.memory_after])];
  const mib = (kb) => (kb / 1024).toFixed(1);
  out.push('Memory of the route programs (master and workers), MiB, resident (RSS) / proportional (PSS) from /proc/PID/smaps_rollup:');
  out.push('');
  out.push(`| program | ${cols.map(([h]) => h).join(' | ')} |`);
  out.push(`|---|${cols.map(() => '---:').join('|')}|`);
  const names = Object.keys(L.memory_idle.programs).sort();
  for (const n of names) {
    out.push(`| ${n} | ${cols.map(([, m]) => (m.programs[n] ? `${mib(m.programs[n].rss_kb)} / ${mib(m.programs[n].pss_kb)}` : '–')).join(' | ')} |`);
  }
  out.push(`| **all ${names.length} programs** | ${cols.map(([, m]) => `**${mib(m.total.rss_kb)} / ${mib(m.total.pss_kb)}** (${m.total.processes} processes)`).join(' | ')} |`);
  const worst = Math.max(...cols.map(([, m]) => m.total.pss_kb));
  out.push('');
  out.push(`All programs' proportional memory at most ${mib(worst)} MiB (target ≤ ${mib(PSS_TARGET_KB)} MiB, today's with 2 workers per program: `
    + `${worst <= PSS_TARGET_KB ? 'met' : 'NOT met'}).`);
  return out;
}

/* req/s by sentc's delay: each route and its proxy_pass, on a log scale. */
function plotLatency(res) {
  const L = res.latency;
  const routes = res.cases.filter((c) => c.kind === 'route' && L.delays.some((e) => e.results[c.id]));
  if (routes.length === 0) return;
  const dat = path.join(OUT, 'latency.dat');
  const rows = L.delays.map((e) => [e.delay_ms, ...routes.flatMap((c) => [e.results[c.id], e.results[c.floor]]
    .map((f) => (f ? f.rps.toFixed(1) : 'NaN')))].join(' '));
  fs.writeFileSync(dat, `# delay_ms ${routes.map((c) => `${c.id} ${c.floor}`).join(' ')}\n${rows.join('\n')}\n`);
  const png = path.join(OUT, 'latency.png');
  const plots = routes.flatMap((c, i) => [
    `"${dat}" using 1:${2 + 2 * i} with linespoints lw 2 lc ${i + 1} pt 7 title "${c.label}"`,
    `"${dat}" using 1:${3 + 2 * i} with linespoints lw 1 dt 2 lc ${i + 1} pt 6 title "proxy_pass: ${c.label.replace(/ \(.*\)$/, '')}"`,
  ]);
  const gp = `set terminal pngcairo size 1100,650 font ",10" noenhanced
set output "${png}"
set title "sentc-backend against nginx proxy_pass as sentc moves away (wrk -t${res.settings.threads} -c${L.connections}, ${res.workers} workers per program)"
set xlabel "sentc's delay per call, ms"
set ylabel "requests per second"
set logscale y
set grid
set key outside right
set xtics (${L.delays.map((e) => e.delay_ms).join(', ')})
plot ${plots.join(', \\\n     ')}
`;
  fs.writeFileSync(path.join(OUT, 'latency.gp'), gp);
  execFileSync('gnuplot', [path.join(OUT, 'latency.gp')]);
}

function plot(res) {
  const dat = path.join(OUT, 'throughput.dat');
  const colour = { floor: 1, proxy: 2, sim: 3, route: 4 };
  const names = {
    return200: 'nginx return 200', 'floor-libfcgi': 'FastCGI, libfcgi loop', floor: 'FastCGI floor',
    me: 'GET /backend/me', 'light-cached': 'access, cached', relay: 'relay', 'light-uncached': 'access, uncached',
    refresh: 'refresh', register: 'register',
  };
  const short = (c) => {
    const of = c.of && names[c.of];
    if (c.kind === 'proxy') return `proxy_pass: ${of}`;
    if (c.kind === 'sim') return `simulator: ${of}`;
    return names[c.id] || c.id;
  };
  const rows = res.cases.filter((c) => res.results[c.id]).map((c) =>
    `"${short(c)}" ${res.results[c.id].rps.toFixed(0)} ${colour[c.kind]}`);
  fs.writeFileSync(dat, `# case req/s kind (1 floor, 2 proxy_pass, 3 simulator alone, 4 backend route)\n${rows.join('\n')}\n`);
  const png = path.join(OUT, 'throughput.png');
  const gp = `set terminal pngcairo size 1300,720 font ",10" noenhanced
set output "${png}"
set title "sentc-backend: requests per second against the floors (wrk -t${res.settings.threads} -c${res.settings.connections}, ${res.settings.rounds} × ${res.settings.seconds} s each, ${res.workers} workers per program)"
set style fill solid 0.8 border -1
set boxwidth 0.7
set grid ytics
set ylabel "requests per second"
set yrange [0:*]
set xtics rotate by -35 left nomirror
set bmargin 11
set rmargin 8
set key top right
plot "${dat}" using 0:($3==1?$2:1/0):xtic(1) with boxes lc rgb "#888888" title "floor (nginx, FastCGI)", \\
     "" using 0:($3==2?$2:1/0) with boxes lc rgb "#4477aa" title "nginx proxy_pass to the simulator", \\
     "" using 0:($3==3?$2:1/0) with boxes lc rgb "#66ccee" title "simulator alone", \\
     "" using 0:($3==4?$2:1/0) with boxes lc rgb "#ee6677" title "backend route", \\
     "" using 0:2:(sprintf("%d", $2)) with labels offset 0,0.7 font ",8" notitle
`;
  fs.writeFileSync(path.join(OUT, 'throughput.gp'), gp);
  execFileSync('gnuplot', [path.join(OUT, 'throughput.gp')]);
  return png;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const t0 = Date.now();
  fs.mkdirSync(OUT, { recursive: true });
  for (const b of ['me', 'group', 'register', 'register-device', 'refresh', 'session']) {
    if (!fs.existsSync(path.join(BIN, b))) throw new Error(`no ${path.join(BIN, b)}: run make first`);
  }
  const floorBin = path.join(OUT, 'floor');
  if (!fs.existsSync(floorBin)) throw new Error(`no ${floorBin}: make bench builds it`);

  const res = {
    started: new Date().toISOString(),
    load_before: loadavg(),
    others: otherActivity(),
    machine: machine(),
    command: `make bench${['BENCH_SECONDS', 'BENCH_ROUNDS', 'BENCH_SOAK', 'BENCH_CONNECTIONS', 'BENCH_THREADS', 'BENCH_CASES',
      'BENCH_DELAYS', 'BENCH_DELAY_CONNECTIONS', 'SENTC_BACKEND_WORKERS']
      .filter((k) => process.env[k]).map((k) => ` ${k}=${process.env[k]}`).join('')}`,
    settings: {
      threads: THREADS, connections: CONNS, rounds: ROUNDS, seconds: SECONDS, warmup: WARMUP, soak: SOAK,
      delays: DELAYS, delay_connections: DELAY_CONNS,
    },
    results: {},
  };
  if (res.load_before[0] > 0.5 || Object.keys(res.others).length > 0) {
    say(`the machine is not quiet (load ${res.load_before.join(' ')}; others: ${JSON.stringify(res.others)}): `
      + 'figures from this run are not for the record');
  }

  fs.rmSync(RUN, { recursive: true, force: true });
  fs.mkdirSync(SOCK, { recursive: true });
  const ctx = { port: await freePort(), cgPort: await freePort(), configFile: path.join(OUT, 'bench.env') };
  // 4 workers per program unless told otherwise: on 2 cores, relays (a
  // worker waits for sentc) did best with 4 (docs/BENCHMARKS.md).
  const workersEnv = process.env.SENTC_BACKEND_WORKERS || String(DEFAULT_WORKERS);
  // The simulator first: the config names its port.
  ctx.env = writeConfig(ctx.configFile, workersEnv);
  ctx.sim = await startSim(ctx.configFile);
  ctx.simPort = ctx.sim.port;
  ctx.env.SENTC_API_URL = `http://127.0.0.1:${ctx.simPort}`;
  fs.appendFileSync(ctx.configFile, `SENTC_API_URL=${ctx.env.SENTC_API_URL}\n`);

  fs.writeFileSync(path.join(OUT, 'http.conf'), httpConf(ctx.simPort, ctx.cgPort));
  const workers = Number(workersEnv);
  res.workers = workers;
  const floors = [];
  for (const [name, extra] of [['floor', []], ['floor-libfcgi', ['-l']]]) {
    const f = startChild(floorBin, ['-s', path.join(SOCK, `${name}.sock`), '-w', String(workers), ...extra]);
    f.stdout.resume();
    f.stderr.resume();
    await waitForSocket(path.join(SOCK, `${name}.sock`), f, `the FastCGI floor (${name})`);
    floors.push(f);
  }
  ctx.floorPids = () => floors.flatMap((f) => [f.pid, ...childrenOf(f.pid)]);

  say(`stack on 127.0.0.1:${ctx.port}, simulator on ${ctx.simPort}, ${workers} workers per program`);
  startStack(ctx.port, ctx.configFile, workersEnv);
  res.rss_start = rssTable();
  await setUp(ctx);
  const memoryIdle = memoryTable();

  const list = cases(ctx).filter((c) => !ONLY || c.kind === 'floor' || ONLY.has(c.id) || ONLY.has(c.of));
  res.cases = list.map(({ req, ...c }) => ({ ...c, request: { ...req, headers: undefined } }));
  // The floors with the local routes, then each relay with its floors.
  const sets = [list.filter((c) => c.kind === 'floor' || c.floor === 'floor')];
  for (const c of list.filter((x) => x.kind === 'route' && x.floor !== 'floor')) {
    sets.push(list.filter((x) => x.id === c.id || x.of === c.id));
  }
  for (const set of sets) {
    say(`${set.map((c) => c.id).join(', ')}: ${ROUNDS} rounds of ${SECONDS} s`);
    await runSet(ctx, set, res.results);
  }
  if (FILES_MIB > 0) res.files = await filesBench(ctx);
  if (DELAYS.length > 0) res.latency = await latencyAxis(ctx, list, memoryIdle);
  if (SOAK > 0) res.soak = await soak(ctx, list);
  if (CALLGRIND) {
    say('callgrind: GET /backend/me with one token, the JWT cache');
    res.callgrind = await callgrind(ctx);
  }
  // A line per request: the log of a run is hundreds of MiB; grep reads it.
  const deaths = spawnSync('grep', ['-E', 'killed by signal|exited with', path.join(RUN, 'backend.log')],
    { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (deaths.status !== 0 && deaths.status !== 1) throw new Error(`grep backend.log: ${deaths.stderr}`);
  res.worker_deaths = deaths.stdout.split('\n').filter(Boolean);
  res.load_after = loadavg();
  res.seconds = Math.round((Date.now() - t0) / 1000);

  await stopAllAndWait();
  res.others_after = otherActivity();	// once ours are gone
  fs.writeFileSync(path.join(OUT, 'results.json'), `${JSON.stringify(res, null, 2)}\n`);
  const md = report(res);
  fs.writeFileSync(path.join(OUT, 'report.md'), md);
  plot(res);
  if (res.latency) plotLatency(res);
  process.stdout.write(md);
  say(`${res.seconds} s; results in ${OUT}/ (report.md, results.json, throughput.png${res.latency ? ', latency.png' : ''})`);
  if (res.worker_deaths.length > 0) {
    say(`workers died during the run:\n${res.worker_deaths.join('\n')}`);
    process.exitCode = 1;
  }
  const errs = Object.entries(res.results).filter(([, f]) => f.errors_total > 0);
  for (const e of (res.latency ? res.latency.delays : [])) {
    for (const [id, f] of Object.entries(e.results)) if (f.errors_total > 0) errs.push([`${id} at ${e.delay_ms} ms`, f]);
  }
  if (errs.length > 0) {
    say(`requests failed in: ${errs.map(([id]) => id).join(', ')}`);
    process.exitCode = 1;
  }
}

/* node bench.js --report: the report and the plot again, from results.json. */
if (process.argv[2] === '--report') {
  const res = JSON.parse(fs.readFileSync(path.join(OUT, 'results.json'), 'utf8'));
  const md = report(res);
  fs.writeFileSync(path.join(OUT, 'report.md'), md);
  plot(res);
  if (res.latency) plotLatency(res);
  process.stdout.write(md);
  process.exit(0);
}

main().catch(async (e) => {
  say(`failed: ${e.stack || e.message}`);
  await stopAllAndWait();
  process.exit(1);
});

'use strict';
/*
 * tests/soak/soak.js: `make soak`. The whole stack (nginx, every program,
 * the simulator) under a mixed wrk load over every route for
 * SOAK_SECONDS, with the simulator failing SOAK_FAULT_RATE of the
 * backend's calls to sentc (delay past the upstream timeout, 5xx,
 * garbage, a dropped connection). Then it checks:
 *
 *   - no worker crashed: no restart in the programs' log, every master
 *     and every worker the same process at the end as at the start;
 *   - no 5xx but 502 and 504, and each of those a backend answer to a
 *     fault at sentc (20009, 20010, 20011, 20025), never more of them
 *     than faults the simulator applied; no INCONSISTENT in the log;
 *   - every program's processes flat: resident memory and open file
 *     descriptors but nginx's FastCGI connections, sampled through the
 *     run, in the last third against the first (RSS_TOLERANCE,
 *     FD_TOLERANCE); the connections, whose number follows what nginx
 *     keeps, all closed once nginx reloaded and closed its side;
 *   - the own database consistent with the simulator: the same users on
 *     both sides; every group with an own row exists at sentc and every
 *     group at sentc has an own row, but for the group creates and
 *     deletes whose answer a delay fault kept past the timeout (counted
 *     by the simulator; see docs/RELIABILITY.md).
 *
 * It writes build/soak/report.md and report.json, and exits non-zero if a
 * check failed. Not part of `make test`.
 *
 * Environment: SOAK_SECONDS (600), SOAK_CONNECTIONS (128), SOAK_THREADS
 * (2), SOAK_FAULT_RATE (0.01), SOAK_UPSTREAM_TIMEOUT_MS (3000: the
 * backend's SENTC_BACKEND_UPSTREAM_TIMEOUT_MS; the delay fault lasts 1.5 s
 * longer), SOAK_USERS (200), SOAK_VICTIMS (accounts made for deleting:
 * 5 a second of the run), SB_BUILD (build), PORT (a free one).
 */
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { sleep, freePort, readEnv, children, answer } = require('../lib/common');
const { registerInput } = require('../sentc-sim/input');

const TOP = path.resolve(__dirname, '../..');
const OUT = path.join(TOP, 'build/soak');
const RUN = path.join(OUT, 'run');

const num = (name, dflt) => {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};
const SECONDS = num('SOAK_SECONDS', 600);
const CONNS = num('SOAK_CONNECTIONS', 128);
const THREADS = num('SOAK_THREADS', 2);
const RATE = num('SOAK_FAULT_RATE', 0.01);
const TIMEOUT_MS = num('SOAK_UPSTREAM_TIMEOUT_MS', 3000);
const DELAY_MS = TIMEOUT_MS + 1500;
const USERS = num('SOAK_USERS', 200);
const VICTIMS = num('SOAK_VICTIMS', Math.ceil(SECONDS * 5));
const TARGETS = 20;
const BUILD = process.env.SB_BUILD || 'build';
const MODES = ['delay', '5xx', 'garbage', 'close'];
/* A sample every few seconds: at least 60 over the run. */
const SAMPLE_MS = Math.max(1000, Math.min(10000, (SECONDS * 1000) / 60));
/* Flat: the last third's mean RSS at most this much above the first third's. */
const RSS_TOLERANCE = { ratio: 0.05, kib: 1024 };
/* Flat: the last third's median open fds at most this many above the first third's. */
const FD_TOLERANCE = 2;
/* The backend's codes for a fault at sentc, and their statuses. */
const FAULT_CODES = { 20009: 502, 20010: 502, 20011: 504, 20025: 502 };

/* The user agents of the load (soak.lua) and of settle(). */
const WRK_AGENT = 'soak-wrk';
const SETTLE_AGENT = 'soak-settle';

let wrkProc = null;
const say = (...a) => console.log('soak:', ...a);

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

/* One request; resolves {status, headers, text, json}. */
function call(base, method, urlPath, { body, headers = {} } = {}) {
  const h = { ...headers };
  let data;
  if (body !== undefined) {
    data = typeof body === 'string' ? body : JSON.stringify(body);
    h['content-type'] = 'application/json';
    h['content-length'] = Buffer.byteLength(data);
  }
  return answer(http.request(base + urlPath, { method, headers: h, agent }), data);
}

/* Runs fn over items, n at a time. */
async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

/*
 * The inodes of the programs' FastCGI connections: connected Unix
 * sockets (/proc/net/unix, St 03) under the path of a program's socket,
 * which every connection accepted on it shows (libcurl's own socket
 * pairs have none).
 */
function unixConnected() {
  const set = new Set();
  const dir = `${path.join(RUN, 'sock')}/`;
  for (const line of fs.readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 8 && f[5] === '03' && f[7].startsWith(dir)) set.add(f[6]);
  }
  // And the TCP sockets (/proc/net/tcp, tcp6): the connections to sentc.
  set.tcp = new Set();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 10) set.tcp.add(f[9]);
    }
  }
  return set;
}

/*
 * Resident memory (KiB) and open fds of pid, or null if it is gone: conns
 * of the fds are FastCGI connections (connected Unix sockets: nginx's,
 * kept or not), whose number follows nginx's; the rest belong to the
 * program alone.
 */
function usage(pid, connected = unixConnected()) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)[1]);
    const dir = `/proc/${pid}/fd`;
    let fds = 0;
    let conns = 0;
    let tcp = 0;
    for (const fd of fs.readdirSync(dir)) {
      fds++;
      let link;
      try { link = fs.readlinkSync(`${dir}/${fd}`); } catch { continue; }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && connected.has(m[1])) conns++;
      else if (m && connected.tcp.has(m[1])) tcp++;
    }
    return { rss, fds: fds - conns - tcp, conns, tcp };
  } catch {
    return null;
  }
}

/* Every program's master and workers: [{name, role, pid}]. */
function processes(programs) {
  const out = [];
  for (const name of programs) {
    const master = Number(fs.readFileSync(path.join(RUN, 'pids', name), 'utf8'));
    out.push({ name, role: 'master', pid: master });
    children(master).forEach((pid, i) => out.push({ name, role: `worker ${i + 1}`, pid }));
  }
  return out;
}

const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
const median = (a) => {
  const b = [...a].sort((x, y) => x - y);
  return b.length % 2 ? b[(b.length - 1) / 2] : (b[b.length / 2 - 1] + b[b.length / 2]) / 2;
};

/* CPU time (clock ticks) the whole machine spent busy, and in all. */
function machineCpu() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

/* CPU time (clock ticks) pid has used, or null once it is gone. */
function procCpu(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

class Checks {
  constructor() { this.list = []; }

  add(what, ok, detail) {
    this.list.push({ what, ok, detail });
    say(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
  }

  get ok() { return this.list.every((c) => c.ok); }
}

/* "GET /backend/groups/{id}/items": the route of a request line's path. */
function routeOf(method, url) {
  const p = url.split('?')[0].replace(/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g, '{id}');
  return `${method} ${p}`;
}

function countBy(map, key, n = 1) {
  map.set(key, (map.get(key) || 0) + n);
}

async function setup(base, simBase, cfg, port) {
  const origin = `http://127.0.0.1:${port}`;
  const exp = SECONDS + 900;
  const run = `soak${process.pid}`;

  const register = async (ident, userData) => {
    const body = registerInput(ident);
    if (userData) body.user_data = userData;
    const r = await call(base, 'POST', '/api/v1/register', { body });
    if (r.status !== 200) throw new Error(`register ${ident}: ${r.status} ${r.text}`);
    return r.json.result.user_id;
  };
  const session = async (userId) => {
    const r = await call(simBase, 'POST', '/__sim/session', { body: { user_id: userId, exp_in: exp } });
    if (!r.json || !r.json.ok) throw new Error(`session: ${r.text}`);
    return r.json;
  };

  say(`setup: ${USERS} users, each with a group and a session cookie`);
  const users = await pool([...Array(USERS).keys()], 16, async (i) => {
    const ident = `${run}-user-${i}`;
    const id = await register(ident, { display_name: `user ${i}` });
    const s = await session(id);
    const auth = { authorization: `Bearer ${s.jwt}` };
    const g = await call(base, 'POST', '/api/v1/group', { body: { keys: 'opaque', group_data: { title: `group ${i}` } }, headers: auth });
    if (g.status !== 200) throw new Error(`group: ${g.status} ${g.text}`);
    const c = await call(base, 'POST', '/backend/session', {
      body: { refresh_token: s.refresh_token }, headers: { ...auth, origin },
    });
    const m = /^([^=]+)=([^;]+);/.exec((c.headers['set-cookie'] || [])[0] || '');
    if (c.status !== 200 || !m) throw new Error(`session cookie: ${c.status} ${c.text}`);
    return [id, ident, s.jwt, s.refresh_token, m[2], g.json.result.group_id];
  });
  say(`setup: ${VICTIMS} accounts to delete, ${TARGETS} users whose sessions the admin ends`);
  const victims = await pool([...Array(VICTIMS).keys()], 16, async (i) => {
    const id = await register(`${run}-victim-${i}`, { n: i });
    return (await session(id)).jwt;
  });
  const targets = await pool([...Array(TARGETS).keys()], 8, async (i) => {
    const ident = `${run}-target-${i}`;
    await register(ident);
    return ident;
  });

  const lines = [
    `K\t${cfg.SENTC_BACKEND_ADMIN_TOKEN}`, `O\t${origin}`,
    `N\t${cfg.SENTC_BACKEND_COOKIE_NAME || 'sentc_refresh'}`, `P\t${run}`, `T\t${THREADS}`,
    // A register body of today's shape without its closing brace, @NAME@ for the identifier.
    `R\t${JSON.stringify(registerInput('@NAME@')).slice(0, -1)}`,
    ...users.map((u) => `U\t${u.join('\t')}`),
    ...victims.map((v) => `V\t${v}`),
    ...targets.map((t) => `A\t${t}`),
  ];
  const file = path.join(OUT, 'soak.data');
  fs.writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return file;
}

/* wrk's own summary: total requests and socket errors. */
function parseWrk(text) {
  const m = /(\d+) requests in ([\d.]+)(\w+)/.exec(text);
  const e = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    requests: m ? Number(m[1]) : 0,
    socket_errors: e ? { connect: +e[1], read: +e[2], write: +e[3], timeout: +e[4] } : { connect: 0, read: 0, write: 0, timeout: 0 },
  };
}

/*
 * nginx's access log (combined): the load's requests by route and
 * status; not those settle() sent, nor those of the set-up.
 */
function readAccess(file) {
  const byRoute = new Map();
  const text = fs.readFileSync(file, 'utf8');
  const re = /"([A-Z]+) (\S+) HTTP\/1\.[01]" (\d{3}) \d+ "[^"]*" "([^"]*)"/g;
  let m;
  let total = 0;
  while ((m = re.exec(text)) !== null) {
    if (m[4] !== WRK_AGENT) continue;
    const route = routeOf(m[1], m[2]);
    if (!byRoute.has(route)) byRoute.set(route, new Map());
    countBy(byRoute.get(route), m[3]);
    total++;
  }
  return { byRoute, total };
}

/* What the programs log about lost answers (lib/sb_unsure.c). */
const LOST = [
  ['register: undone at once', /undone at sentc after a lost answer/],
  ['register: recorded', /register lost its answer; recorded/],
  ['delete: finished at once', /lost its answer; finished/],
  ['delete: recorded', /lost its answer; recorded, to be finished/],
  ['settled: late user deleted', /settled: a user a register made after losing its answer/],
  ['settled: delete finished', /settled: the delete of user/],
];

/*
 * The programs' log: request lines by program, method, status and code,
 * from the load only (bytes from..to of the file); restarts, reports and
 * lost answers from all of it.
 */
function readBackendLog(file, from, to) {
  const requests = new Map();
  const restarts = [];
  const inconsistent = [];
  const errors = new Map();
  const lost = new Map();
  const sanitizer = [];
  const all = fs.readFileSync(file);
  const load = all.subarray(from, to).toString('utf8');
  for (const line of load.split('\n')) {
    const m = /^([\w-]+)\[\d+\] request: method=(\S+) status=(\d+) err=(\d+) /.exec(line);
    if (m) countBy(requests, `${m[1]} ${m[2]} ${m[3]} ${m[4]}`);
  }
  for (const line of all.toString('utf8').split('\n')) {
    let m;
    if (/ request: method=/.test(line)) continue;
    if (/killed by signal|exited with .*restarting/.test(line)) restarts.push(line);
    if (/INCONSISTENT/.test(line)) inconsistent.push(line);
    if (/ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:/.test(line)) sanitizer.push(line);
    for (const [what, re] of LOST) if (re.test(line)) countBy(lost, what);
    m = /^([\w-]+)\[\d+\] (error|warn): (.*)$/.exec(line);
    if (m) countBy(errors, `${m[1]} ${m[2]}: ${m[3].replace(/ rid=\S+$/, '').replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '{id}').replace(/\d+/g, 'N')}`);
  }
  return { requests, restarts, inconsistent, errors, lost, sanitizer };
}

function sql(db, query) {
  const out = execFileSync('sqlite3', ['-json', db, query], { encoding: 'utf8', maxBuffer: 1 << 30 }).trim();
  return out === '' ? [] : JSON.parse(out);
}

/*
 * Lost answers the programs recorded (lib/sb_unsure.h) are settled by a
 * pass that the register, account delete and admin programs run before
 * a request, from sb_unsure_after() seconds after the loss. Once every
 * late request has landed (now), each record must be taken by a pass at
 * least once more: then its due lies AFTER seconds past now. Requests
 * that run a pass and nothing else (refused before they reach sentc) are
 * sent until that holds.
 */
async function settle(base, db) {
  const after = 3 * Math.ceil(TIMEOUT_MS / 1000) + 5;
  const t0 = Math.floor(Date.now() / 1000);
  const started = Date.now();
  const left = () => sql(db, `SELECT kind, count(*) AS n FROM unsure WHERE due < ${t0 + after} GROUP BY kind`);
  const before = sql(db, 'SELECT kind, count(*) AS n FROM unsure GROUP BY kind');
  let rest = left();
  while (rest.length > 0 && Date.now() - started < (3 * after + 30) * 1000) {
    const headers = { 'user-agent': SETTLE_AGENT };
    await Promise.all([
      call(base, 'DELETE', '/api/v1/user', { headers }),
      call(base, 'PUT', '/api/v1/user/forced/disable_otp', { body: {}, headers }),
      call(base, 'POST', '/api/v1/register', { body: 'not json', headers }),
    ]);
    await sleep(250);
    rest = left();
  }
  const kinds = (rows) => Object.fromEntries(rows.map((r) => [r.kind === 1 ? 'register' : 'delete', r.n]));
  return {
    records_at_the_end_of_the_load: kinds(before), not_settled: kinds(rest),
    records_kept: kinds(sql(db, 'SELECT kind, count(*) AS n FROM unsure GROUP BY kind')),
    seconds: Math.round((Date.now() - started) / 1000), after_s: after,
  };
}

function diff(a, b) {
  const sb = new Set(b);
  return [...a].filter((x) => !sb.has(x));
}

async function main() {
  fs.rmSync(RUN, { recursive: true, force: true });
  fs.mkdirSync(RUN, { recursive: true });
  const port = Number(process.env.PORT) || await freePort();
  const site = path.join(OUT, 'site.conf');
  fs.writeFileSync(site, `access_log ${RUN}/access.log combined buffer=64k flush=2s;\n`);
  const checks = new Checks();
  const report = {
    machine: {
      cpus: os.cpus().length, cpu: os.cpus()[0].model, memory_mib: Math.round(os.totalmem() / 1048576),
      kernel: os.release(), loadavg_at_start: os.loadavg().map((x) => x.toFixed(2)),
    },
    settings: {
      seconds: SECONDS, connections: CONNS, threads: THREADS, fault_rate: RATE, fault_modes: MODES,
      upstream_timeout_ms: TIMEOUT_MS, delay_ms: DELAY_MS, users: USERS, victims: VICTIMS, build: BUILD,
    },
  };

  say(`starting the stack (${BUILD}) on port ${port}`);
  execFileSync(path.join(TOP, 'nginx/stack'), ['start'], {
    env: {
      ...process.env, PORT: String(port), RUN_DIR: RUN, BUILD, SITE_CONF: site,
      SENTC_BACKEND_UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    execFileSync(path.join(TOP, 'nginx/stack'), ['stop'], { env: { ...process.env, RUN_DIR: RUN } });
  };
  process.on('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      if (wrkProc) wrkProc.kill('SIGTERM');
      say(`${sig}: stopping`);
      process.exit(130);
    });
  }

  const base = `http://127.0.0.1:${port}`;
  const simBase = `http://127.0.0.1:${fs.readFileSync(path.join(RUN, 'sim.port'), 'utf8').trim()}`;
  const cfg = readEnv(path.join(RUN, 'dev.env'));
  const programs = fs.readdirSync(path.join(RUN, 'pids')).filter((n) => n !== 'nginx' && n !== 'sim').sort();
  const sim = async (method, what, body) => {
    const r = await call(simBase, method, `/__sim/${what}`, { body });
    if (!r.json || !r.json.ok) throw new Error(`sim ${method} ${what}: ${r.text}`);
    return r.json;
  };

  const data = await setup(base, simBase, cfg, port);
  const procs = processes(programs);
  report.processes_at_start = procs.length;

  const logFile = path.join(RUN, 'backend.log');
  const logFrom = fs.statSync(logFile).size;
  await sim('POST', 'fail', { path: '/api/*', rate: RATE, modes: MODES, delay_ms: DELAY_MS });
  say(`load: wrk -t${THREADS} -c${CONNS} -d${SECONDS}s, ${RATE * 100} % of calls to sentc failing`);
  const started = Date.now();
  const wrk = wrkProc = spawn('wrk', [`-t${THREADS}`, `-c${CONNS}`, `-d${SECONDS}s`, '--timeout', '30s',
    '-s', path.join(__dirname, 'soak.lua'), base], { env: { ...process.env, SOAK_DATA: data } });
  let wrkOut = '';
  wrk.stdout.on('data', (d) => { wrkOut += d; });
  wrk.stderr.on('data', (d) => { wrkOut += d; });
  const wrkDone = new Promise((resolve) => { wrk.on('exit', resolve); });

  // The stack's processes, for its share of the machine's CPU: the
  // programs, nginx and its workers, the simulator, and wrk (read at
  // each sample: it is gone at the end).
  const nginxPid = Number(fs.readFileSync(path.join(RUN, 'nginx.pid'), 'utf8'));
  const simPid = Number(fs.readFileSync(path.join(RUN, 'pids', 'sim'), 'utf8'));
  const stackPids = [...procs.map((p) => p.pid), nginxPid, ...children(nginxPid), simPid];
  const stackCpu = () => stackPids.reduce((n, pid) => n + (procCpu(pid) || 0), 0);
  const cpu0 = machineCpu();
  const stack0 = stackCpu();
  let wrkCpu = 0;
  const samples = [];
  const loads = [];
  let finished = false;
  wrkDone.then(() => { finished = true; });
  while (!finished) {
    const t = (Date.now() - started) / 1000;
    const connected = unixConnected();
    samples.push({ t, at: procs.map((p) => usage(p.pid, connected)) });
    loads.push(os.loadavg()[0]);
    wrkCpu = procCpu(wrk.pid) ?? wrkCpu;
    await Promise.race([sleep(SAMPLE_MS), wrkDone]);
  }
  const cpu1 = machineCpu();
  const ours = stackCpu() - stack0 + wrkCpu;
  report.cpu = {
    machine_busy_pct: Math.round((100 * (cpu1.busy - cpu0.busy)) / (cpu1.total - cpu0.total)),
    stack_pct_of_machine: Math.round((100 * ours) / (cpu1.total - cpu0.total)),
    others_pct_of_machine: Math.round((100 * (cpu1.busy - cpu0.busy - ours)) / (cpu1.total - cpu0.total)),
    load1_min: Math.min(...loads).toFixed(2), load1_mean: mean(loads).toFixed(2), load1_max: Math.max(...loads).toFixed(2),
  };
  const wrkCode = await wrkDone;
  report.wrk = { exit: wrkCode, ...parseWrk(wrkOut), output: wrkOut.trim() };
  report.duration_s = Math.round((Date.now() - started) / 1000);
  report.loadavg_at_end = os.loadavg().map((x) => x.toFixed(2));
  say(`load done: ${report.wrk.requests} requests`);

  await sim('DELETE', 'fail');
  report.faults = (await sim('GET', 'fail')).applied.sort((a, b) => b.count - a.count);
  // Requests a delay kept at sentc land within DELAY_MS.
  await sleep(DELAY_MS + 2000);
  const logTo = fs.statSync(logFile).size;
  report.settle = await settle(base, path.join(RUN, 'db', 'backend.db'));

  // ---- no worker crashed --------------------------------------------
  const after = processes(programs);
  const same = procs.length === after.length && procs.every((p) => after.some((q) => q.pid === p.pid && q.name === p.name));
  checks.add('every master and worker is the process it was at the start', same,
    `${procs.length} processes at the start, ${after.length} at the end`);

  // ---- resident memory and fds flat -----------------------------------
  const third = report.duration_s / 3;
  const flat = [];
  procs.forEach((p, i) => {
    const first = samples.filter((s) => s.t <= third && s.at[i]).map((s) => s.at[i]);
    const last = samples.filter((s) => s.t >= 2 * third && s.at[i]).map((s) => s.at[i]);
    if (first.length === 0 || last.length === 0) return;
    const r0 = mean(first.map((u) => u.rss));
    const r1 = mean(last.map((u) => u.rss));
    // Medians: a worker may hold a file or socket for a moment (a
    // transaction's journal, a connection being replaced); a leak moves
    // the median, a moment does not.
    const f0 = median(first.map((u) => u.fds));
    const f1 = median(last.map((u) => u.fds));
    const allowed = Math.max(r0 * RSS_TOLERANCE.ratio, RSS_TOLERANCE.kib);
    flat.push({
      name: p.name, role: p.role, pid: p.pid,
      rss_start_kib: samples[0].at[i] ? samples[0].at[i].rss : null,
      rss_end_kib: samples[samples.length - 1].at[i] ? samples[samples.length - 1].at[i].rss : null,
      rss_first_third_kib: Math.round(r0), rss_last_third_kib: Math.round(r1),
      fds_start: samples[0].at[i] ? samples[0].at[i].fds : null,
      fds_end: samples[samples.length - 1].at[i] ? samples[samples.length - 1].at[i].fds : null,
      fds_first_third: f0, fds_last_third: f1,
      rss_ok: r1 - r0 <= allowed, fds_ok: f1 - f0 <= FD_TOLERANCE,
    });
  });
  report.samples = samples.length;
  report.flat = flat;
  const badRss = flat.filter((f) => !f.rss_ok);
  const badFds = flat.filter((f) => !f.fds_ok);
  // AddressSanitizer keeps freed memory in quarantine (up to 256 MiB):
  // resident memory says nothing about leaks there (its leak check does).
  const sanitized = BUILD !== 'build';
  checks.add(`resident memory flat (last third's mean within max(${RSS_TOLERANCE.ratio * 100} %, ${RSS_TOLERANCE.kib} KiB) of the first third's)`,
    sanitized || badRss.length === 0, sanitized ? `not checked in ${BUILD}: the sanitizer's quarantine grows`
      : badRss.map((f) => `${f.name} ${f.role}: ${f.rss_first_third_kib} -> ${f.rss_last_third_kib} KiB`).join('; '));
  checks.add(`open fds flat, but for connections (last third's median within ${FD_TOLERANCE} of the first third's)`,
    badFds.length === 0, badFds.map((f) => `${f.name} ${f.role}: ${f.fds_first_third} -> ${f.fds_last_third}`).join('; '));

  // ---- FastCGI connections: as many as nginx holds, none left over -----
  // A worker holds the connections nginx keeps to it, so their number
  // follows nginx's, not time. Once nginx closes its side (a reload: the
  // old workers close their kept connections and exit), no worker may
  // hold one: a connection a worker failed to close would stay.
  report.conns_most = Math.max(...samples.flatMap((x) => x.at.filter(Boolean).map((u) => u.conns)));

  // ---- connections to sentc: libcurl's cache, bounded ------------------
  // A worker keeps at most CURLOPT_MAXCONNECTS (4, lib/sb_upstream.c)
  // idle connections to sentc, and may hold one more while it connects.
  report.tcp_most = Math.max(...samples.flatMap((x) => x.at.filter(Boolean).map((u) => u.tcp)));
  checks.add('connections to sentc bounded by libcurl\'s cache (at most 5 per process)', report.tcp_most <= 5,
    `at most ${report.tcp_most} held by one process`);
  const oldNginx = children(nginxPid);
  process.kill(nginxPid, 'SIGHUP');
  let held = [];
  const until = Date.now() + 15000;
  for (;;) {
    await sleep(250);
    const gone = oldNginx.every((pid) => !fs.existsSync(`/proc/${pid}`));
    const connected = unixConnected();
    held = procs.map((p) => ({ p, u: usage(p.pid, connected) })).filter((x) => x.u && x.u.conns > 0);
    if ((gone && held.length === 0) || Date.now() > until) break;
  }
  report.conns_left = held.map((x) => `${x.p.name} ${x.p.role}: ${x.u.conns}`);
  checks.add('every FastCGI connection closed once nginx closed its side (reloaded)', held.length === 0,
    held.length === 0 ? `at most ${report.conns_most} held by one process during the load, none after the reload`
      : report.conns_left.join('; '));

  // ---- the own database against the simulator --------------------------
  const state = await sim('GET', 'state');
  const db = path.join(RUN, 'db', 'backend.db');
  const ownUsers = sql(db, 'SELECT user_id FROM users').map((r) => r.user_id);
  const ownGroups = sql(db, 'SELECT group_id FROM groups').map((r) => r.group_id);
  const simUsers = state.users.map((u) => u.user_id);
  const simGroups = state.groups.map((g) => g.group_id);
  const faultCount = (mode, method, p) => report.faults
    .filter((f) => f.mode === mode && f.method === method && f.path === p).reduce((n, f) => n + f.count, 0);
  const lateCreates = faultCount('delay', 'POST', '/api/v1/group');
  const lateDeletes = faultCount('delay', 'DELETE', '/api/v1/group/:group_id');
  const c = {
    users_at_sentc: simUsers.length, users_here: ownUsers.length,
    users_here_not_at_sentc: diff(ownUsers, simUsers), users_at_sentc_not_here: diff(simUsers, ownUsers),
    groups_at_sentc: simGroups.length, groups_here: ownGroups.length,
    groups_here_not_at_sentc: diff(ownGroups, simGroups), groups_at_sentc_not_here: diff(simGroups, ownGroups),
    late_group_creates: lateCreates, late_group_deletes: lateDeletes,
  };
  report.consistency = {
    ...c,
    users_here_not_at_sentc: c.users_here_not_at_sentc.length,
    users_at_sentc_not_here: c.users_at_sentc_not_here.length,
    groups_here_not_at_sentc: c.groups_here_not_at_sentc.length,
    groups_at_sentc_not_here: c.groups_at_sentc_not_here.length,
    examples: {
      users_here_not_at_sentc: c.users_here_not_at_sentc.slice(0, 5),
      users_at_sentc_not_here: c.users_at_sentc_not_here.slice(0, 5).map((id) => state.users.find((u) => u.user_id === id)),
    },
  };
  checks.add('every record of a lost answer taken by a pass after the last late request landed',
    Object.keys(report.settle.not_settled).length === 0,
    `${JSON.stringify(report.settle.records_at_the_end_of_the_load)} at the end of the load, ${report.settle.seconds} s`);
  checks.add('every user stored here exists at sentc', c.users_here_not_at_sentc.length === 0,
    `${ownUsers.length} here, ${c.users_here_not_at_sentc.length} not at sentc`);
  checks.add('every user at sentc has its own row', c.users_at_sentc_not_here.length === 0,
    `${simUsers.length} at sentc, ${c.users_at_sentc_not_here.length} without a row`);
  checks.add('groups here but gone at sentc: exactly the deletes a delay kept past the timeout',
    c.groups_here_not_at_sentc.length === lateDeletes, `${c.groups_here_not_at_sentc.length}, ${lateDeletes} late deletes`);
  checks.add('groups at sentc without a row: exactly the creates a delay kept past the timeout',
    c.groups_at_sentc_not_here.length === lateCreates, `${c.groups_at_sentc_not_here.length}, ${lateCreates} late creates`);

  stop();

  // ---- statuses -----------------------------------------------------------
  const access = readAccess(path.join(RUN, 'access.log'));
  const log = readBackendLog(logFile, logFrom, logTo);
  report.by_route = [...access.byRoute].sort().map(([route, st]) => ({ route, statuses: Object.fromEntries([...st].sort()) }));
  report.access_total = access.total;
  report.backend = [...log.requests].sort().map(([k, n]) => {
    const [program, method, status, err] = k.split(' ');
    return { program, method, status: +status, err: +err, count: n };
  });
  report.lost_answers = Object.fromEntries(LOST.map(([what]) => [what, log.lost.get(what) || 0]));
  report.log_errors = [...log.errors].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([line, n]) => ({ line, count: n }));
  const x5 = [];
  for (const [route, st] of access.byRoute) {
    for (const [status, n] of st) if (status[0] === '5') x5.push({ route, status: +status, n });
  }
  const not502or504 = x5.filter((e) => e.status !== 502 && e.status !== 504);
  // 499: nginx's note of a request whose client went away first, never
  // sent: those wrk had open when its time ran out, one per connection.
  const gone = [...access.byRoute.values()].reduce((n, st) => n + (st.get('499') || 0), 0);
  checks.add('no request dropped but those open when wrk stopped (499)', gone <= CONNS, `${gone}, ${CONNS} connections`);
  checks.add('no 5xx but 502 and 504', not502or504.length === 0,
    not502or504.map((e) => `${e.route} ${e.status}: ${e.n}`).join('; '));
  const fromNginx = x5.reduce((n, e) => n + e.n, 0);
  const backend5xx = report.backend.filter((b) => b.status >= 500);
  const unexplained = backend5xx.filter((b) => FAULT_CODES[b.err] !== b.status);
  const byPrograms = backend5xx.reduce((n, b) => n + b.count, 0);
  // A program's answer whose client was gone (499) never went through.
  checks.add('every 502 and 504 a program\'s answer to a fault at sentc (20009, 20010, 20011, 20025)',
    unexplained.length === 0 && fromNginx <= byPrograms && byPrograms <= fromNginx + gone,
    `${fromNginx} through nginx, ${byPrograms} from the programs${unexplained.length ? `; unexplained: ${unexplained.map((b) => `${b.program} ${b.method} ${b.status} ${b.err}: ${b.count}`).join(', ')}` : ''}`);
  const faultsApplied = report.faults.reduce((n, f) => n + f.count, 0);
  checks.add('no more 502 and 504 than faults applied', fromNginx <= faultsApplied, `${fromNginx} answers, ${faultsApplied} faults`);
  checks.add('no worker restarted (the programs\' log)', log.restarts.length === 0, log.restarts.slice(0, 5).join(' | '));
  checks.add('no sanitizer report (the programs\' log)', log.sanitizer.length === 0, log.sanitizer.slice(0, 5).join(' | '));
  checks.add('no INCONSISTENT in the programs\' log', log.inconsistent.length === 0, log.inconsistent.slice(0, 5).join(' | '));
  checks.add('wrk ran to the end', wrkCode === 0 && report.wrk.requests > 0, `exit ${wrkCode}, ${report.wrk.requests} requests`);
  checks.add('nginx logged every request wrk counted', access.total >= report.wrk.requests,
    `${access.total} logged, ${report.wrk.requests} counted by wrk (it does not count those still open at the end)`);

  report.checks = checks.list;
  report.ok = checks.ok;
  fs.writeFileSync(path.join(OUT, 'report.json'), `${JSON.stringify(report, null, 1)}\n`);
  fs.writeFileSync(path.join(OUT, 'report.md'), markdown(report));
  say(`${checks.ok ? 'passed' : 'FAILED'}; report in ${path.relative(TOP, OUT)}/report.md`);
  process.exitCode = checks.ok ? 0 : 1;
}

function markdown(r) {
  const out = [];
  const s = r.settings;
  out.push(`# Soak: ${r.ok ? 'passed' : 'FAILED'}`, '');
  out.push(`- machine: ${r.machine.cpus} × ${r.machine.cpu}, ${r.machine.memory_mib} MiB, Linux ${r.machine.kernel}; load average ${r.machine.loadavg_at_start.join(' ')} at the start, ${r.loadavg_at_end.join(' ')} at the end`);
  out.push(`- CPU during the load: the machine ${r.cpu.machine_busy_pct} % busy, the stack (programs, nginx, simulator, wrk) ${r.cpu.stack_pct_of_machine} %, other processes ${r.cpu.others_pct_of_machine} %; 1-minute load average ${r.cpu.load1_min} to ${r.cpu.load1_max}, mean ${r.cpu.load1_mean}`);
  out.push(`- load: wrk -t${s.threads} -c${s.connections} for ${r.duration_s} s (${s.build}); ${r.wrk.requests} requests, ${Math.round(r.wrk.requests / r.duration_s)}/s; socket errors ${JSON.stringify(r.wrk.socket_errors)}`);
  out.push(`- faults: ${s.fault_rate * 100} % of the calls to sentc, modes ${s.fault_modes.join(', ')}; delay ${s.delay_ms} ms against an upstream timeout of ${s.upstream_timeout_ms} ms`);
  out.push('', '## Checks', '');
  for (const c of r.checks) out.push(`- ${c.ok ? 'ok' : '**FAILED**'}: ${c.what}${c.detail ? ` (${c.detail})` : ''}`);
  out.push('', '## Requests by route and status (nginx)', '', '| route | statuses |', '|---|---|');
  for (const b of r.by_route) out.push(`| \`${b.route}\` | ${Object.entries(b.statuses).map(([k, v]) => `${k}: ${v}`).join(', ')} |`);
  out.push('', '## Answers by program, method, status and code (the programs\' log, during the load)', '', '| program | method | status | code | count |', '|---|---|---|---|---|');
  for (const b of r.backend) out.push(`| ${b.program} | ${b.method} | ${b.status} | ${b.err || ''} | ${b.count} |`);
  out.push('', '## Faults applied (the simulator)', '', '| mode | call to sentc | count |', '|---|---|---|');
  for (const f of r.faults) out.push(`| ${f.mode} | ${f.method} ${f.path} | ${f.count} |`);
  out.push('', '## Resident memory and open fds', '', `${r.samples} samples. The fds are those but nginx's FastCGI connections (at most ${r.conns_most} held by one process during the load) and the connections to sentc (at most ${r.tcp_most}).`, '',
    '| program | process | RSS start KiB | RSS end KiB | mean first third | mean last third | fds start | fds end | median fds first third | last third |',
    '|---|---|---|---|---|---|---|---|---|---|');
  for (const f of r.flat) out.push(`| ${f.name} | ${f.role} | ${f.rss_start_kib} | ${f.rss_end_kib} | ${f.rss_first_third_kib} | ${f.rss_last_third_kib} | ${f.fds_start} | ${f.fds_end} | ${f.fds_first_third} | ${f.fds_last_third} |`);
  const c = r.consistency;
  out.push('', '## Consistency', '',
    `- users: ${c.users_at_sentc} at sentc, ${c.users_here} here; ${c.users_here_not_at_sentc} here but not at sentc, ${c.users_at_sentc_not_here} at sentc without a row`,
    `- groups: ${c.groups_at_sentc} at sentc, ${c.groups_here} here; ${c.groups_here_not_at_sentc} here but gone at sentc (late deletes: ${c.late_group_deletes}), ${c.groups_at_sentc_not_here} at sentc without a row (late creates: ${c.late_group_creates})`);
  out.push('', '## Lost answers (lib/sb_unsure.h)', '',
    `At the end of the load: ${JSON.stringify(r.settle.records_at_the_end_of_the_load)} records; settled in ${r.settle.seconds} s (a record is due ${r.settle.after_s} s after the loss); kept (a lost register is watched for an hour): ${JSON.stringify(r.settle.records_kept)}.`, '',
    '| what the programs logged | count |', '|---|---|');
  for (const [k, v] of Object.entries(r.lost_answers)) out.push(`| ${k} | ${v} |`);
  out.push('', '## Warnings and errors in the programs\' log', '', '| line | count |', '|---|---|');
  for (const e of r.log_errors) out.push(`| ${e.line.replace(/\|/g, '\\|')} | ${e.count} |`);
  return `${out.join('\n')}\n`;
}

main().catch((e) => {
  console.error(`soak: ${e.stack || e}`);
  process.exitCode = 2;
});

'use strict';
/*
 * Every answer under the backend's locations is the sentc envelope, with a
 * code docs/ERRORS.md lists, and no answer is built from the request's Host:
 * through the development server (nginx/stack, where / is the backend's
 * too), through the nginx snippet in a server of the user's own (whose /
 * stays the user's), and through the Apache config. Each location is
 * asked with every method (TRACE, CONNECT and made-up ones too), and with
 * its path one segment short, one segment long and with a trailing slash.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { start, waitFor, TOP, WAIT_MS } = require('./harness');
const { freePort } = require('../lib/common');
const { startApache } = require('../e2e/apache');

const ID = crypto.randomUUID();
const HOST = 'host-reflected.example';

// The backend's error codes and their HTTP statuses, as docs/ERRORS.md lists them.
const CODES = new Map([...fs.readFileSync(path.join(TOP, 'docs/ERRORS.md'), 'utf8')
  .matchAll(/^\| (20\d{3}) \| (\d{3}) \|/gm)].map((m) => [Number(m[1]), Number(m[2])]));

// Every location of the snippet, and paths below the backend's prefixes
// that none serves.
const LOCATIONS = [
  '/api/v1/register', '/api/v1/user/prepare_register_device', '/api/v1/group', `/api/v1/group/${ID}`,
  `/api/v1/group/${ID}/light`, '/api/v1/user', '/api/v1/user/forced/disable_otp', '/api/v1/user/forced/sessions',
  '/api/v1/user/forced/delete', `/api/v1/user/forced/delete/${ID}`, `/api/v1/group/forced/${ID}/user/${ID}`,
  '/backend/health', '/backend/ready', '/backend/metrics', '/backend/me', `/backend/groups/${ID}/data`,
  '/backend/session', '/backend/refresh', '/backend/logout', `/backend/groups/${ID}/items`,
  `/backend/groups/${ID}/items/${ID}`, '/backend/groups', '/backend/nothing', '/api', '/api/v1',
  '/.sentc-backend/bad-request', '/.sentc-backend/unavailable', '/.sentc-backend/group',
  '/.sentc-backend/group-create', '/.sentc-backend/admin', '/.sentc-backend/nothing',
  '/.sentc-backend/errors/too-large.asis',
];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'PROPFIND', 'FOO'];

/* Each location, one segment short, one segment long, with a trailing slash. */
function variants(locations) {
  const out = new Set();
  for (const p of locations) {
    out.add(p);
    out.add(`${p}/`);
    out.add(`${p}/more`);
    const short = p.slice(0, p.lastIndexOf('/'));
    if (short !== '') out.add(short);
  }
  return [...out];
}

/*
 * One request as raw bytes on a connection of its own, with Host set to
 * HOST; resolves with the status, the headers, the raw head and body.
 */
function ask(port, method, urlPath) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      const text = buf.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const head = end >= 0 ? text.slice(0, end) : text;
      const headers = {};
      for (const line of head.split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      let body = end >= 0 ? text.slice(end + 4) : '';
      // A chunked body, undone (Apache chunks the programs' answers).
      if (/chunked/i.test(headers['transfer-encoding'] || '')) {
        let out = '';
        for (let rest = body; ;) {
          const nl = rest.indexOf('\r\n');
          const n = parseInt(rest.slice(0, nl), 16);
          if (!(n > 0)) break;
          out += rest.slice(nl + 2, nl + 2 + n);
          rest = rest.slice(nl + 2 + n + 2);
        }
        body = out;
      }
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : 0, headers, head, body });
    };
    const timer = setTimeout(done, WAIT_MS);
    sock.on('connect', () => sock.write(`${method} ${urlPath} HTTP/1.1\r\nHost: ${HOST}\r\n`
      + 'Connection: close\r\nContent-Length: 0\r\n\r\n'));
    sock.on('data', (d) => { buf = Buffer.concat([buf, d]); });
    sock.on('error', () => {});
    sock.on('close', done);
  });
}

/*
 * Asks every path with every method, a few at a time; returns what is
 * wrong with the answers, one line each.
 */
async function probe(port, paths) {
  const cases = paths.flatMap((p) => METHODS.map((m) => [m, p]));
  const wrong = [];
  let n = 0;
  const worker = async () => {
    while (n < cases.length) {
      const [method, p] = cases[n++];
      const r = await ask(port, method, p);
      const what = `${method} ${p}: ${r.head.split('\r\n')[0]} ${r.body.slice(0, 120)}`;
      const why = verdict(method, p, r);
      if (why) wrong.push(`${why}: ${what}`);
    }
  };
  await Promise.all([1, 2, 3, 4].map(worker));
  return wrong;
}

/* What is wrong with an answer, or null. */
function verdict(method, p, r) {
  if (r.status === 0) return 'no answer';
  if (r.headers.location !== undefined) return `a redirect to ${r.headers.location}`;
  if (r.head.includes(HOST) || r.body.includes(HOST)) return 'the Host header reflected';
  if (method === 'HEAD') {
    if (r.body !== '') return 'a body after HEAD';
    if (r.status === 200 && p === '/backend/metrics') return null;
    if (!/^application\/json/.test(r.headers['content-type'] || '')) return 'HEAD: not the envelope\'s type';
    return null;
  }
  // A CORS answer or the methods a path takes (OPTIONS): no content.
  if (r.status === 204 && method === 'OPTIONS') return r.body === '' ? null : 'a body with 204';
  if (r.status === 200 && p === '/backend/metrics' && method === 'GET') return null;
  if (!/^application\/json/.test(r.headers['content-type'] || '')) return `Content-Type ${r.headers['content-type']}`;
  let env;
  try { env = JSON.parse(r.body); } catch { return 'not JSON'; }
  if (typeof env?.status !== 'boolean') return 'not an envelope';
  if (env.status) return r.status === 200 ? null : 'status true with an error status';
  if (typeof env.err_msg !== 'string' || !Number.isInteger(env.err_code)) return 'not an error envelope';
  // sentc's own codes (below 1000) pass through; the backend's are listed.
  if (env.err_code >= 1000) {
    if (!CODES.has(env.err_code)) return `err_code ${env.err_code} is not in docs/ERRORS.md`;
    if (CODES.get(env.err_code) !== r.status) return `HTTP ${r.status}, not docs/ERRORS.md's ${CODES.get(env.err_code)}`;
  }
  return null;
}

/*
 * A server of the user's own (its / serves the app) that includes the
 * snippet as the README says, beside a running stack: nginx with the
 * stack's copy of the snippet and its upstreams.
 */
async function userServer(stack) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-usersrv-'));
  const port = await freePort();
  fs.copyFileSync('/etc/nginx/fastcgi_params', path.join(dir, 'fastcgi_params'));
  const worker = process.getuid() === 0 ? fs.readFileSync(path.join(stack.dir, 'nginx.conf'), 'utf8')
    .split('\n').find((l) => /^user /.test(l)) || '' : '';
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `${worker}
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path ${dir}/body;
	fastcgi_temp_path ${dir}/fastcgi;
	proxy_temp_path ${dir}/proxy;
	uwsgi_temp_path ${dir}/uwsgi;
	scgi_temp_path ${dir}/scgi;
	include ${stack.dir}/sentc-backend-upstreams.conf;
	server {
		listen 127.0.0.1:${port};
		server_name app.example;
		location / {
			default_type text/html;
			return 200 '<p>the app</p>';
		}
		include ${stack.dir}/sentc-backend.conf;
	}
}
`);
  const child = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')],
    { stdio: 'ignore' });
  await waitFor(async () => child.exitCode !== null || (await ask(port, 'GET', '/backend/health')).status === 200,
    'the second nginx to answer /backend/health');
  return {
    port,
    stop: async () => {
      child.kill('SIGQUIT');
      await new Promise((r) => { if (child.exitCode !== null) r(); else child.once('exit', r); });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('every answer under the backend\'s locations is an envelope; none reflects Host', () => {
  let s;
  let user;
  let apache;
  before(async () => {
    s = await start();
    user = await userServer(s);
    apache = await startApache(s);
  });
  after(async () => {
    if (apache) await apache.stop();
    if (user) await user.stop();
    s.stop();
  });

  const paths = variants(LOCATIONS);

  it('the development server (nginx/stack): the backend\'s locations, and / and anything else', async () => {
    assert.deepEqual(await probe(s.port, [...paths, '/', '/index.html', '/favicon.ico', '/x/y.jpg']), []);
  });

  it('the nginx snippet in a server of the user\'s own, whose / stays the app\'s', async () => {
    const app = await ask(user.port, 'GET', '/');
    assert.equal(app.status, 200, app.head);
    assert.equal(app.body, '<p>the app</p>');
    assert.deepEqual(await probe(user.port, paths), []);
  });

  it('Apache with apache/sentc-backend.conf, and / of its test server', async () => {
    assert.deepEqual(await probe(apache.port, [...paths, '/', '/index.html']), []);
  });

  it('the cases of the report: GET /, an unknown path, TRACE, and GET /backend/groups (no redirect)', async () => {
    for (const port of [s.port, apache.port]) {
      const cases = [
        ['GET', '/', 404, 20003], ['GET', '/backend/nothing', 404, 20003], ['TRACE', '/backend/health', 405, 20002],
        ['TRACE', '/api/v1/group', 405, 20002], ['GET', '/backend/groups', 404, 20003],
      ];
      for (const [method, p, status, code] of cases) {
        const r = await ask(port, method, p);
        assert.equal(r.status, status, `${port} ${method} ${p}: ${r.head}`);
        assert.equal(JSON.parse(r.body).err_code, code, `${port} ${method} ${p}`);
        assert.equal(r.headers.location, undefined);
      }
    }
    // A HEAD where a swapped-in route takes GET reaches its program, not sentc.
    await s.clearLog();
    for (const port of [s.port, apache.port]) {
      const r = await ask(port, 'HEAD', `/api/v1/group/${ID}/light`);
      assert.equal(r.status, 401, r.head);
    }
    assert.deepEqual(await s.upstream(), []);
  });
});

'use strict';
/*
 * apache/sentc-backend.conf does what nginx/sentc-backend.conf does: the same
 * requests through both fronts of one stack get the same answers. Each case
 * tells apart the program and sentc (the simulator) by what only one of them
 * answers, and checks what reached sentc.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');

const { start, waitFor, gone, TOP } = require('../integration/harness');
const { startApache } = require('./apache');

const NOT_A_UUID = 'not-a-uuid';

/*
 * A request on a connection of its own (from localAddress, if given), with
 * the path sent exactly as given; the body is sent as is.
 */
function request(port, method, urlPath, { headers = {}, body, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const opts = { host: '127.0.0.1', port, method, path: urlPath, headers, agent: false, localAddress };
    const req = http.request(opts, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json, raw: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/* Bytes as given on a connection of their own; resolves with all the answer. */
function rawRequest(port, bytes) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const c = net.connect(port, '127.0.0.1', () => c.end(bytes));
    c.on('data', (d) => chunks.push(d));
    c.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    c.on('error', reject);
  });
}

let stack;
let apache;
let owner;
let group;

before(async () => {
  stack = await start();
  apache = await startApache(stack);
  owner = await stack.user('owner', { role: 'owner' });
  group = await stack.group(owner, { title: 'g' });
});

after(async () => {
  if (apache) await apache.stop();
  if (stack) stack.stop();
});

const json = (o) => ({ 'content-type': 'application/json', ...o });

for (const front of ['nginx', 'apache']) {
  describe(`${front} in front of the programs`, () => {
    let port;
    before(() => { port = front === 'nginx' ? stack.port : apache.port; });
    beforeEach(() => stack.clearLog());

    const envelope = (r, status, code) => {
      assert.equal(r.status, status, r.text);
      assert.match(r.headers['content-type'], /^application\/json/);
      assert.equal(r.json.status, false, r.text);
      assert.equal(r.json.err_code, code, r.text);
    };

    it('routes each program\'s paths to it, with the Authorization header', async () => {
      let r = await request(port, 'POST', '/api/v1/group', {
        headers: json(owner.auth), body: JSON.stringify({ keys: 'k', group_data: { front } }),
      });
      assert.equal(r.status, 200, r.text);
      const gid = r.json.result.group_id;
      assert.deepEqual(stack.rows(`SELECT group_data FROM groups WHERE group_id = '${gid}'`),
        [{ group_data: JSON.stringify({ front }) }], 'the group-create program stored group_data');

      r = await request(port, 'GET', `/api/v1/group/${group}/light`, { headers: owner.auth });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.result.rank, 0);

      r = await request(port, 'GET', '/backend/me', { headers: owner.auth });
      assert.deepEqual(r.json, { status: true, result: { role: 'owner' } });

      r = await request(port, 'GET', `/backend/groups/${group}/data`, { headers: owner.auth });
      assert.deepEqual(r.json, { status: true, result: { title: 'g' } });

      const item = crypto.randomUUID();
      r = await request(port, 'PUT', `/backend/groups/${group}/items/${item}`, {
        headers: json(owner.auth), body: JSON.stringify({ data: 'c1ph3r' }),
      });
      assert.equal(r.status, 200, r.text);
      r = await request(port, 'GET', `/backend/groups/${group}/items/${item}`, { headers: owner.auth });
      assert.equal(r.json.result.data, 'c1ph3r');

      // Only the programs answer these codes; sentc would say 1, 31 or 11.
      envelope(await request(port, 'GET', `/api/v1/group/${NOT_A_UUID}/light`, { headers: owner.auth }), 400, 20004);
      envelope(await request(port, 'DELETE', `/api/v1/group/${NOT_A_UUID}`, { headers: owner.auth }), 400, 20004);
      envelope(await request(port, 'DELETE', '/api/v1/user'), 401, 20012);
      envelope(await request(port, 'POST', '/api/v1/user/prepare_register_device', { headers: json(), body: '[1]' }), 400, 20007);
      envelope(await request(port, 'POST', '/api/v1/register', { headers: json(), body: '{' }), 400, 20006);
    });

    it('passes the other methods on the same paths, and every other /api/ path, to sentc unchanged', async () => {
      const token = { 'x-sentc-app-token': stack.config.SENTC_PUBLIC_TOKEN };
      const cases = [
        ['GET', `/api/v1/group/${group}`],
        ['PUT', '/api/v1/user'],
        ['GET', '/api/v1/group'],
        ['POST', `/api/v1/group/${group}/light`],
        ['GET', '/api/v1/user/some/other/route?x=1'],
      ];
      for (const [method, p] of cases) {
        const r = await request(port, method, p, { headers: { ...token, ...owner.auth } });
        // The simulator serves none of these: its own 404 envelope.
        envelope(r, 404, 404);
      }
      const r = await request(port, 'POST', '/api/v1/exists', {
        headers: json(token), body: JSON.stringify({ user_identifier: owner.name }),
      });
      assert.deepEqual(r.json, { status: true, result: { user_identifier: owner.name, available: false } });

      const up = await stack.upstream();
      assert.deepEqual(up.map((x) => [x.method, x.path]),
        [...cases.map(([m, p]) => [m, p.split('?')[0]]), ['POST', '/api/v1/exists']]);
      for (const x of up) assert.equal(x.token, 'public', 'the client\'s own token');
      for (const x of up.slice(0, -1)) assert.equal(x.auth, owner.jwt, 'the client\'s own JWT');
    });

    it('refuses encoded dots, slashes and backslashes in the path with 400, before any program or sentc', async () => {
      for (const p of ['/api/v1/group/%2e%2e/user', '/api/v1/group/a%2Fb/light', '/api/v1/user%5c', '/backend/me?x=%2e']) {
        envelope(await request(port, 'GET', p, { headers: owner.auth }), 400, 20004);
      }
      assert.deepEqual(await stack.upstream(), []);
    });

    it('answers a body far past the cap with its own 413 envelope; the program answers one past its cap', async () => {
      // On its way to sentc: only the front can answer.
      envelope(await request(port, 'POST', '/api/v1/exists', {
        headers: json({ 'x-sentc-app-token': stack.config.SENTC_PUBLIC_TOKEN }),
        body: Buffer.alloc(3 * 1024 * 1024, 0x20),
      }), 413, 20005);
      envelope(await request(port, 'POST', '/api/v1/register', {
        headers: json(), body: Buffer.alloc(1536 * 1024, 0x20),
      }), 413, 20005);
      assert.deepEqual(await stack.upstream(), []);
    });

    it('answers its own malformed-request 400 in the envelope', async () => {
      const text = await rawRequest(port, 'GET /backend/health HTTP/1.1\r\nHost: 127.0.0.1\r\n'
        + 'No colon in this header\r\nConnection: close\r\n\r\n');
      assert.match(text, /^HTTP\/1\.1 400 /);
      assert.match(text, /\r\ncontent-type: application\/json\r\n/i);
      assert.deepEqual(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)),
        { status: false, err_msg: 'The request is malformed', err_code: 20029 });
    });

    it('answers sentc dropping the connection with the 503 envelope', async () => {
      await stack.sim('POST', 'fail', { path: '/api/v1/exists', mode: 'close' });
      const r = await request(port, 'POST', '/api/v1/exists', {
        headers: json({ 'x-sentc-app-token': stack.config.SENTC_PUBLIC_TOKEN }), body: '{"user_identifier":"x"}',
      });
      envelope(r, 503, 20026);
    });

    it('serves the admin routes to loopback only, with the admin credential', async () => {
      const body = JSON.stringify({ user_identifier: owner.name });
      const admin = { authorization: `Bearer ${stack.config.SENTC_BACKEND_ADMIN_TOKEN}` };
      const paths = ['/api/v1/user/forced/disable_otp', '/api/v1/user/forced/sessions',
        `/api/v1/user/forced/delete/${crypto.randomUUID()}`, `/api/v1/group/forced/${group}/user/${owner.id}`];
      for (const p of paths) {
        envelope(await request(port, 'PUT', p, { headers: json(admin), body, localAddress: '127.0.0.2' }), 403, 20036);
      }
      envelope(await request(port, 'PUT', paths[0], { headers: json(), body }), 401, 20032);
      assert.deepEqual(await stack.upstream(), []);

      const r = await request(port, 'PUT', paths[0], { headers: json(admin), body });
      assert.equal(r.status, 200, r.text);
      const up = await stack.upstream();
      assert.deepEqual(up.map((x) => [x.method, x.path, x.token]), [['PUT', paths[0], 'secret']]);
    });

    it('serves the metrics and readiness: the metrics to loopback only', async () => {
      const m = await request(port, 'GET', '/backend/metrics');
      assert.equal(m.status, 200, m.text);
      assert.equal(m.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
      assert.match(m.text, /^sentc_backend_up\{program="register"\} 1$/m);
      envelope(await request(port, 'GET', '/backend/metrics', { localAddress: '127.0.0.2' }), 403, 20036);
      const refused = await request(port, 'GET', '/backend/metrics', { localAddress: '127.0.0.2' });
      assert.equal(refused.json.err_msg, 'The metrics are not served to this address');
      const r = await request(port, 'GET', '/backend/ready', { localAddress: '127.0.0.2' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.result.upstream, true);
    });

    it('lets the programs answer CORS preflights for their methods, and sentc those for its own', async () => {
      const origin = stack.base;
      const routes = [
        ['/api/v1/register', 'POST'], ['/api/v1/user/prepare_register_device', 'POST'],
        ['/api/v1/group', 'POST'], [`/api/v1/group/${group}`, 'DELETE'], [`/api/v1/group/${group}/light`, 'GET'],
        ['/api/v1/user', 'DELETE'], ['/backend/me', 'PUT'], [`/backend/groups/${group}/items`, 'GET'], [`/backend/groups/${group}/data`, 'PUT'],
        ['/backend/health', 'GET'], ['/backend/session', 'POST'], ['/backend/refresh', 'GET'], ['/backend/logout', 'POST'],
      ];
      for (const [p, method] of routes) {
        const r = await request(port, 'OPTIONS', p, { headers: {
          origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type',
        } });
        assert.ok(r.status === 200 || r.status === 204, `${method} ${p}: ${r.status} ${r.text}`);
        assert.equal(r.headers['access-control-allow-origin'], origin, `${method} ${p}`);
        assert.equal(r.headers['access-control-allow-credentials'], 'true', `${method} ${p}`);
      }
      assert.deepEqual(await stack.upstream(), [], 'no preflight of a program\'s method reached sentc');
      await request(port, 'OPTIONS', `/api/v1/group/${group}`, { headers: { origin, 'access-control-request-method': 'GET' } });
      assert.deepEqual((await stack.upstream()).map((x) => [x.method, x.path]), [['OPTIONS', `/api/v1/group/${group}`]],
        'a preflight for GET, sentc\'s method there, reached sentc');
    });

    it('routes the cookie routes to their programs', async () => {
      envelope(await request(port, 'GET', '/backend/refresh', { headers: owner.auth }), 401, 20031);
      envelope(await request(port, 'POST', '/backend/session', { headers: json(owner.auth), body: '{}' }), 400, 20034);
      const r = await request(port, 'POST', '/backend/logout');
      assert.equal(r.status, 200, r.text);
      assert.match(r.headers['set-cookie'][0], /Max-Age=0/);
    });

    it('keeps its internal locations internal', async () => {
      for (const p of ['/.sentc-backend/group', '/.sentc-backend/register', '/.sentc-backend/errors/too-large.asis']) {
        const r = await request(port, 'POST', p, { headers: json(), body: '{}' });
        assert.equal(r.status, 404, `${p}: ${r.text}`);
      }
      assert.deepEqual(await stack.upstream(), []);
    });
  });
}

describe('apache/sentc-backend.conf', () => {
  it('routes every program', () => {
    const conf = fs.readFileSync(path.join(TOP, 'apache/sentc-backend.conf'), 'utf8');
    for (const f of fs.readdirSync(path.join(TOP, 'cgi-bin')).filter((n) => n.endsWith('.c'))) {
      const name = f.slice(0, -2);
      assert.ok(conf.includes(`"unix:\${SENTC_BACKEND_SOCKETS}/${name}.sock|fcgi://`), name);
    }
  });
});

describe('a program that is down', () => {
  it('gives the 503 envelope through both fronts', async () => {
    for (const name of ['register-device', 'metrics']) {
      const pid = Number(fs.readFileSync(path.join(stack.dir, 'pids', name), 'utf8'));
      process.kill(pid, 'SIGTERM');
      await waitFor(() => gone(pid), `${name} (pid ${pid}) to stop on SIGTERM`);
    }
    for (const port of [stack.port, apache.port]) {
      const r = await request(port, 'POST', '/api/v1/user/prepare_register_device', {
        headers: json(), body: JSON.stringify({ device_identifier: 'x' }),
      });
      assert.equal(r.status, 503, r.text);
      assert.deepEqual(r.json, { status: false, err_msg: 'The backend is not ready', err_code: 20026 });
      // The metrics location, with its own access rule, keeps the error documents.
      const m = await request(port, 'GET', '/backend/metrics');
      assert.equal(m.status, 503, m.text);
      assert.deepEqual(m.json, { status: false, err_msg: 'The backend is not ready', err_code: 20026 });
    }
  });
});

describe("Apache's log", () => {
  it('holds no secret', () => {
    const log = apache.log();
    assert.ok(log.length > 0);
    for (const k of ['SENTC_SECRET_TOKEN', 'SENTC_JWT_SIGN_KEY']) assert.ok(!log.includes(stack.config[k]), k);
    assert.ok(!log.includes(owner.jwt), 'a user\'s JWT');
  });
});

describe('file parts behind Apache (SENTC_BACKEND_FILE_ACCEL empty: the program sends them)', () => {
  let st; let ap;
  before(async () => {
    st = await start({ SENTC_BACKEND_FILE_ACCEL: '', SENTC_BACKEND_FILE_AUTH_TOKEN: 'apache-auth-token' });
    ap = await startApache(st);
  });
  after(async () => {
    if (ap) await ap.stop();
    if (st) st.stop();
  });

  it('takes a 4 MiB part, gives it back byte for byte, refuses one past 6 MiB, and takes the delete callback', async () => {
    const u = await st.user('apache-files');
    const app = { 'x-sentc-app-token': st.config.SENTC_PUBLIC_TOKEN };
    await st.sim('POST', 'files/options', { file_storage: 1 });
    let r = await request(ap.port, 'POST', '/api/v1/file', {
      headers: json({ ...u.auth, ...app }),
      body: JSON.stringify({ master_key_id: 'k', encrypted_key: 'ZQ==', encrypted_key_alg: 'a', belongs_to_type: 'None' }),
    });
    assert.equal(r.status, 200, r.text);
    const { session_id: session, file_id: fileId } = r.json.result;
    const part = crypto.randomBytes(4 * 1024 * 1024 + 99);
    r = await request(ap.port, 'POST', `/backend/files/part/${session}/1/true`, { headers: json({ ...u.auth, ...app }), body: part });
    assert.deepEqual(r.json, { status: true, result: 'Success' });
    r = await request(ap.port, 'GET', `/api/v1/file/${fileId}`, { headers: { ...u.auth, ...app } });
    const [{ part_id: pid }] = r.json.result.part_list;
    r = await request(ap.port, 'GET', `/backend/files/part/${pid}`, { headers: app });
    assert.equal(r.status, 200);
    assert.ok(r.raw.equals(part), 'the same bytes');
    r = await request(ap.port, 'POST', `/backend/files/part/${session}/2/true`, {
      headers: json({ ...u.auth, ...app }), body: Buffer.alloc(6 * 1024 * 1024 + 1),
    });
    assert.equal(r.status, 413, r.text);
    assert.equal(r.json.err_code, 20005);
    r = await request(ap.port, 'POST', '/backend/files/delete', {
      headers: json({ 'x-sentc-app-token': 'apache-auth-token' }), body: JSON.stringify([pid]),
    });
    assert.deepEqual(r.json, { status: true, result: 'Success' });
    r = await request(ap.port, 'GET', `/backend/files/part/${pid}`, { headers: app });
    assert.equal(r.status, 404, r.text);
    assert.equal(r.json.err_code, 20042);
  });
});

'use strict';
/*
 * GET /backend/ready: what /backend/health checks (every program up, the
 * database) and that the sentc API can be reached, found by connecting
 * to it without sending a request (no sentc call is spent), the answer
 * shared by the health program's workers for SENTC_BACKEND_READY_TTL
 * seconds. /backend/health stays a liveness check that does not ask.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const path = require('node:path');
const { start, waitFor } = require('./harness');
const { Conn } = require('./fcgi');

/* A TCP server that counts connections and bytes, and answers nothing. */
function listener() {
  return new Promise((resolve) => {
    const st = { connections: 0, markers: 0, bytes: 0, sockets: new Set() };
    st.server = net.createServer((c) => {
      st.connections++;
      st.sockets.add(c);
      c.on('data', (d) => { st.bytes += d.length; });
      c.on('close', () => st.sockets.delete(c));
      c.on('error', () => {});
    });
    st.server.listen(0, '127.0.0.1', () => {
      st.port = st.server.address().port;
      // The count once at least n connections were accepted and every
      // connection made before now was seen: node may see a connection
      // after the answer it led to. The kernel queues connections in
      // order, so once a marker connection of ours is seen, so is every
      // connection made before it. (The markers are not counted.)
      st.settled = async (n) => {
        await waitFor(() => st.connections - st.markers >= n, `${n} connections to the stand-in API`,
          { detail: () => `${st.connections - st.markers} seen` });
        const marker = net.connect(st.port, '127.0.0.1');
        marker.on('error', () => {});
        const port = await new Promise((r) => { marker.once('connect', () => r(marker.localPort)); });
        await waitFor(() => [...st.sockets].some((c) => c.remotePort === port), 'the marker connection to be seen');
        marker.destroy();
        st.markers++;
        return st.connections - st.markers;
      };
      st.close = () => new Promise((r) => {
        for (const c of st.sockets) c.destroy();
        st.server.close(r);
      });
      resolve(st);
    });
  });
}

describe('GET /backend/ready', () => {
  let s;
  before(async () => { s = await start(); });
  after(() => s.stop());

  it('is 200 with the programs, the database and the sentc API, and costs no sentc call', async () => {
    await s.clearLog();
    for (let i = 0; i < 5; i++) {
      const r = await s.api('GET', '/backend/ready');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.result.upstream, true);
      assert.equal(r.json.result.database, true);
      assert.ok(Object.values(r.json.result.programs).every((x) => x === true));
    }
    assert.deepEqual(await s.upstream(), [], 'not one request reached the sentc API');
    const h = await s.api('GET', '/backend/health');
    assert.equal(h.status, 200);
    assert.equal(h.json.result.upstream, undefined, 'health does not ask');
  });

  it('connects once per SENTC_BACKEND_READY_TTL whichever worker answers, sends nothing, and is 503 when the API cannot be reached', async () => {
    const up = await listener();
    try {
      // A TTL that a burst of requests on a busy machine stays well within.
      const TTL_MS = 10000;
      await s.restart('health', { SENTC_API_URL: `http://127.0.0.1:${up.port}`, SENTC_BACKEND_READY_TTL: String(TTL_MS / 1000) });
      assert.equal((await s.api('GET', '/backend/ready')).status, 200);
      let probed = Date.now();	// the shared answer was made before this
      // Waits until the shared answer is older than the TTL.
      const expired = () => waitFor(() => Date.now() > probed + TTL_MS + 300, 'the shared answer to be older than the TTL');
      // Then, whichever of the two workers answers, from the shared answer.
      const burst = await Promise.all([...Array(12)].map(() => s.api('GET', '/backend/ready')));
      for (const r of burst) assert.equal(r.status, 200, r.text);
      assert.equal(await up.settled(1), 1, 'one probe for all of them');
      await expired();
      assert.equal((await s.api('GET', '/backend/ready')).status, 200);
      probed = Date.now();
      assert.equal(await up.settled(2), 2, 'a new probe once the answer is older than the TTL');
      assert.equal(up.bytes, 0, 'no request was sent');

      await up.close();
      await expired();
      const r = await s.api('GET', '/backend/ready');
      assert.equal(r.status, 503, r.text);
      assert.deepEqual(r.json, { status: false, err_msg: 'The backend is not ready: the sentc API cannot be reached', err_code: 20026 });
      assert.ok(s.logRecords('health').some((x) => x.level === 'warn' && /^ready: the sentc API cannot be reached: /.test(x.msg)));
      const h = await s.api('GET', '/backend/health');
      assert.equal(h.status, 200, 'health is liveness only');
    } finally {
      await up.close().catch(() => {});
      await s.restart('health');
    }
    assert.equal((await s.api('GET', '/backend/ready')).status, 200);
  });

  it('is 503 when a program is down, as health is', async () => {
    process.kill(s.master('logout'), 'SIGTERM');
    let r;
    await waitFor(async () => {
      r = await s.api('GET', '/backend/ready');
      return r.status === 503;
    }, '/backend/ready to be 503 once logout is stopped', { detail: () => r.text });
    assert.equal(r.status, 503);
    assert.equal(r.json.err_msg, 'The backend is not ready: a program is down');
    assert.equal((await s.api('GET', '/backend/health')).status, 503);
  });

  it('takes GET only', async () => {
    const r = await s.api('POST', '/backend/ready', { body: {} });
    assert.equal(r.status, 405);
    assert.equal(r.json.err_code, 20002);
  });
});

/*
 * HEAD, as load balancers probe: answered wherever GET is, with GET's
 * status and headers and no body, by the library for every route; the
 * programs are asked directly (FastCGI), so that the body is known to be
 * theirs to leave out, not nginx's to drop.
 */
describe('HEAD', () => {
  let s;
  let u;
  let gid;
  before(async () => {
    s = await start();
    u = await s.user('head', { h: 1 });
    gid = await s.group(u);
  });
  after(() => s.stop());

  /* A program's answers to GET and to HEAD of one path, on one connection. */
  async function getAndHead(name, uri, headers = {}) {
    const c = new Conn(path.join(s.dir, 'sock', `${name}.sock`));
    await c.connected();
    try {
      return { get: await c.request({ method: 'GET', uri, headers }), head: await c.request({ method: 'HEAD', uri, headers }) };
    } finally {
      c.end();
    }
  }

  /* A header of a FastCGI answer. */
  const header = (a, name) => new RegExp(`^${name}: (.*)$`, 'mi').exec(a.head)?.[1];

  for (const [name, uri] of [['health', '/backend/health'], ['health', '/backend/ready']]) {
    it(`${uri}: 200, GET's headers, no body`, async () => {
      const { get, head } = await getAndHead(name, uri);
      assert.equal(get.status, 200, get.body);
      assert.ok(get.body.length > 0);
      assert.equal(head.status, 200);
      assert.equal(head.body, '', 'no body');
      assert.equal(header(head, 'Content-Type'), 'application/json');
      assert.equal(header(head, 'Content-Length'), String(Buffer.byteLength(get.body)));
      // Through nginx: the same, and nothing after the head on the wire.
      const r = await s.rawHttp(`HEAD ${uri} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      assert.equal(r.status, 200, r.head);
      assert.equal(r.headers['content-length'], String(Buffer.byteLength(get.body)));
      assert.equal(r.body, '');
    });
  }

  it('another GET route: /backend/me and a group\'s items, with the caller\'s JWT', async () => {
    const auth = { HTTP_AUTHORIZATION: `Bearer ${u.jwt}` };
    for (const [name, uri] of [['me', '/backend/me'], ['items', `/backend/groups/${gid}/items`]]) {
      const { get, head } = await getAndHead(name, uri, auth);
      assert.equal(get.status, 200, get.body);
      assert.equal(head.status, 200, `${uri}: ${head.body}`);
      assert.equal(head.body, '');
      assert.equal(header(head, 'Content-Length'), String(Buffer.byteLength(get.body)));
    }
    const r = await s.api('HEAD', '/backend/me', { headers: u.auth });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-length'), String(Buffer.byteLength(JSON.stringify({ status: true, result: { h: 1 } }))));
    // Logged and counted as HEAD.
    assert.ok(s.logRecords('me').some((l) => l.msg === 'request' && l.method === 'HEAD' && l.status === 200));
  });

  it('on a swapped-in GET route (the group\'s light view): the program answers it, which asks sentc with GET', async () => {
    await s.clearLog();
    const r = await s.api('HEAD', `/api/v1/group/${gid}/light`, { headers: u.auth });
    assert.equal(r.status, 200);
    assert.ok(s.logRecords('group').some((l) => l.msg === 'request' && l.method === 'HEAD'), 'the program answered');
    assert.deepEqual((await s.upstream()).map((x) => x.method), ['GET']);
  });

  it('Allow lists HEAD wherever GET is; a route without GET is a 405 to HEAD, without a body', async () => {
    const me = await s.api('OPTIONS', '/backend/me');
    assert.equal(me.headers.get('allow'), 'GET, HEAD, PUT');
    const c = new Conn(path.join(s.dir, 'sock', 'logout.sock'));
    await c.connected();
    const a = await c.request({ method: 'HEAD', uri: '/backend/logout' });
    c.end();
    assert.equal(a.status, 405);
    assert.equal(header(a, 'Allow'), 'POST');
    assert.equal(a.body, '');
  });
});

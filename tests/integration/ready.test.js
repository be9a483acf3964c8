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
const { start, sleep, SLOW } = require('./harness');

/* A TCP server that counts connections and bytes, and answers nothing. */
function listener() {
  return new Promise((resolve) => {
    const st = { connections: 0, bytes: 0, sockets: new Set() };
    st.server = net.createServer((c) => {
      st.connections++;
      st.sockets.add(c);
      c.on('data', (d) => { st.bytes += d.length; });
      c.on('close', () => st.sockets.delete(c));
      c.on('error', () => {});
    });
    st.server.listen(0, '127.0.0.1', () => {
      st.port = st.server.address().port;
      // The count once at least n connections were accepted and a moment
      // passed: node may see a connection after the answer it led to.
      st.settled = async (n) => {
        for (let i = 0; i < 100 * SLOW && st.connections < n; i++) await sleep(20);
        await sleep(100);
        return st.connections;
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
      await s.restart('health', { SENTC_API_URL: `http://127.0.0.1:${up.port}`, SENTC_BACKEND_READY_TTL: '4' });
      assert.equal((await s.api('GET', '/backend/ready')).status, 200);
      // Then, whichever of the two workers answers, from the shared answer.
      const burst = await Promise.all([...Array(12)].map(() => s.api('GET', '/backend/ready')));
      for (const r of burst) assert.equal(r.status, 200, r.text);
      assert.equal(await up.settled(1), 1, 'one probe for all of them');
      await sleep(4300);
      assert.equal((await s.api('GET', '/backend/ready')).status, 200);
      assert.equal(await up.settled(2), 2, 'a new probe once the answer is older than the TTL');
      assert.equal(up.bytes, 0, 'no request was sent');

      await up.close();
      await sleep(4300);
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
    for (let i = 0; i < 400 * SLOW; i++) {
      r = await s.api('GET', '/backend/ready');
      if (r.status === 503) break;
      await sleep(50);
    }
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

'use strict';
/*
 * The sentc API over TLS, as api.sentc.com is reached: the certificate
 * checked against SENTC_BACKEND_CA_FILE, the connection kept, a kept
 * connection the server closed sent on again, chunked answers. The
 * simulator speaks plain HTTP; fixtures/tls.js puts TLS in front of it.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { start, waitFor } = require('./harness');
const { fixture } = require('./fixtures/spawn');

const DEVICE = '/api/v1/user/prepare_register_device';
const device = (name) => ({ device_identifier: name, master_key: 'mk', public_key: 'pk' });

/* A self-signed certificate for 127.0.0.1 in dir: { cert, key }. */
function certificate(dir, name) {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}

/* fixtures/tls.js: resolves { child, port, accepted(), refused() } once it listens. */
async function terminator(cert) {
  const t = await fixture('tls.js', [cert.cert, cert.key]);
  const count = (what) => () => t.lines().filter((l) => l === what).length;
  return { child: t.child, port: t.port, accepted: count('accepted'), refused: count('refused'), closed: count('closed') };
}

/* A stack whose SENTC_API_URL is the terminator, trusting ca. */
async function stackBehind(t, ca) {
  const s = await start({
    SENTC_API_URL: `https://127.0.0.1:${t.port}`, SENTC_BACKEND_CA_FILE: ca, SENTC_BACKEND_WORKERS: '1',
    SENTC_BACKEND_ACCESS_CACHE_TTL: '0',
  });
  t.child.stdin.write(`${new URL(s.simBase).port}\n`);
  return s;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-tls-'));
const good = certificate(dir, 'sentc-api');
const other = certificate(dir, 'someone-else');
let seq = 0;

describe('the sentc API over TLS', () => {
  let s; let t; let owner;
  const relay = () => s.api('POST', DEVICE, { body: device(`tls-${process.pid}-${++seq}`) });

  before(async () => {
    t = await terminator(good);
    s = await stackBehind(t, good.cert);
    owner = await s.user('tls-owner');
  });
  after(() => { s.stop(); t.child.kill(); });
  beforeEach(async () => { await s.sim('DELETE', 'fail'); await s.clearLog(); });

  it('relays over a connection it keeps', async () => {
    const before0 = t.accepted();
    for (let i = 0; i < 10; i++) {
      const r = await relay();
      assert.equal(r.status, 200, r.text);
      assert.equal(typeof r.json.result.device_id, 'string');
    }
    assert.equal((await s.upstream()).length, 10);
    assert.ok(t.accepted() - before0 <= 1, `${t.accepted() - before0} TLS connections for 10 relays`);
  });

  it('checks group access, with a chunked answer too', async () => {
    const gid = await s.group(owner);
    await s.sim('POST', 'fail', { path: `/api/v1/group/${gid}/light`, mode: 'chunked', count: 1 });
    for (let i = 0; i < 2; i++) {
      const r = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: owner.auth });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.result.group_id, gid);
    }
    const light = (await s.upstream()).filter((u) => u.path.endsWith('/light'));
    assert.equal(light.length, 2);
    assert.equal(light[0].auth, owner.jwt);
  });

  it('sends once more, on a new connection, when the server closed the kept one', async () => {
    assert.equal((await relay()).status, 200);
    const before0 = t.accepted();
    const closed0 = t.closed();
    await s.sim('POST', 'drop');
    // The kept connection is closed by the time the next request goes: a
    // request that meets a close on the way is a lost answer, not resent.
    await waitFor(() => t.closed() > closed0, 30000, 'the terminator closed the kept connection');
    await s.clearLog();
    const r = await relay();
    assert.equal(r.status, 200, r.text);
    assert.equal((await s.upstream()).length, 1);
    assert.equal(t.accepted() - before0, 1);
  });
});

describe('the sentc API with a certificate SENTC_BACKEND_CA_FILE does not vouch for', () => {
  let s; let t;
  before(async () => {
    t = await terminator(good);
    s = await stackBehind(t, other.cert);
  });
  after(() => { s.stop(); t.child.kill(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('refuses to talk: 502, and nothing reaches sentc', async () => {
    await s.clearLog();
    const r = await s.api('POST', DEVICE, { body: device(`tls-untrusted-${process.pid}`) });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.err_code, 20009);
    assert.deepEqual(await s.upstream(), []);
    // The terminator says so on its own output, a moment after.
    await waitFor(() => t.refused() >= 1, 30000, 'the handshake tried, and failed');
    assert.equal(t.accepted(), 0);
  });
});

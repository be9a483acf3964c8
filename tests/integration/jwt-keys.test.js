'use strict';
/*
 * The app's JWT keys as the dashboard gives them: its .env carries one
 * bare key and no key id, and a key made in the dashboard signs every
 * new JWT at once, before the backend's config names it.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { start, forge, claims } = require('./harness');
const { genKeyEnv } = require('../sentc-sim/keys');

const kidOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url')).kid;
const b64url = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');

/* A token with the header's kid and the claims given, signed by a key of its own: a forgery. */
function forgeWithKid(kid, body) {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const data = `${b64url({ alg: 'ES384', typ: 'JWT', kid })}.${b64url(body)}`;
  const sig = crypto.sign('sha384', Buffer.from(data), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${data}.${sig.toString('base64url')}`;
}

/* A key made in the dashboard: sentc signs with it from now on. */
async function rotate(s) {
  const k = genKeyEnv();
  await s.sim('POST', 'keys', { kid: k.kid, sign_key: k.signKeyB64, current: true });
  return k;
}

/* The value of sentc_backend_jwt_key_checks_total for a program and result. */
async function checks(s, program, result) {
  const r = await s.api('GET', '/backend/metrics');
  const m = new RegExp(`^sentc_backend_jwt_key_checks_total\\{program="${program}",result="${result}"\\} (\\d+)$`, 'm').exec(r.text);
  assert.ok(m, `no sample for ${program} ${result}`);
  return Number(m[1]);
}

/* The calls to sentc's GET /user/jwt since the log was cleared. */
async function jwtChecks(s) {
  return (await s.upstream()).filter((x) => x.method === 'GET' && x.path === '/api/v1/user/jwt');
}

describe('a bare key without SENTC_JWT_KEY_ID, as in the dashboard\'s .env', () => {
  let s; let u;
  before(async () => {
    // The simulator signs with the kid of the config file; the programs see no key id.
    s = await start({ SENTC_JWT_KEY_ID: '' });
    u = await s.user('bare');
  });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  it('verifies the app\'s tokens whatever their kid, with no call to sentc', async () => {
    assert.equal(kidOf(u.jwt), s.config.SENTC_JWT_KEY_ID);
    const r = await s.api('GET', '/backend/me', { headers: u.auth });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(await s.upstream(), []);
    const health = await s.api('GET', '/backend/health');
    assert.equal(health.json.result.jwt_keys, 1);
  });

  it('refuses a token another key signed: only the signature decides, sentc\'s too', async () => {
    const r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${forge(u.jwt)}` } });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.err_code, 20016);
    // No key here has an id: sentc was asked, and refused the signature (its 30).
    assert.equal((await jwtChecks(s)).length, 1);
  });

  it('has sentc check a token of a key made in the dashboard since, which the bare key does not verify', async () => {
    await rotate(s);
    const { jwt } = await s.session(u.id);
    await s.clearLog();
    const r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${jwt}` } });
    assert.equal(r.status, 200, r.text);
    assert.equal((await jwtChecks(s)).length, 1);
    assert.equal(await checks(s, 'me', 'accepted'), 1);
  });
});

describe('a key made in the dashboard, not yet in the config', () => {
  let s; let u; let k2; let rotated;
  before(async () => {
    s = await start();
    u = await s.user('rot');
    k2 = await rotate(s);
    rotated = (await s.session(u.id)).jwt;
  });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  it("is accepted through sentc's check (GET /user/jwt, secret token), cached, counted, and logged once", async () => {
    assert.equal(kidOf(rotated), k2.kid);
    const auth = { authorization: `Bearer ${rotated}` };
    for (let i = 0; i < 3; i++) {
      const r = await s.api('GET', '/backend/me', { headers: auth });
      assert.equal(r.status, 200, r.text);
    }
    const asked = await jwtChecks(s);
    assert.deepEqual(asked.map((x) => [x.token, x.auth]), [['secret', rotated]], 'one check, then the cache');
    assert.equal(await checks(s, 'me', 'accepted'), 1);
    assert.equal(await checks(s, 'me', 'refused'), 0);
    // Another token under the same key: checked too, but the key is logged once.
    const again = (await s.session(u.id, { exp_in: 299 })).jwt;
    assert.notEqual(again, rotated);
    const r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${again}` } });
    assert.equal(r.status, 200, r.text);
    assert.equal(await checks(s, 'me', 'accepted'), 2);
    const lines = s.logRecords('me').filter((x) => x.msg.includes(`key id ${k2.kid}`));
    assert.equal(lines.length, 1, 'logged once per kid');
    assert.equal(lines[0].level, 'warn');
    assert.match(lines[0].msg, /SENTC_JWT_VERIFY_KEY does not list: add that key/);
    // Each program asks for itself; a group route works the same.
    const gid = (await s.sim('POST', 'groups', { user_id: u.id, count: 1 })).group_ids[0];
    const light = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: auth });
    assert.equal(light.status, 200, light.text);
    assert.equal(await checks(s, 'group', 'accepted'), 1);
  });

  it('a forged token with a kid sentc does not know either is refused, and the refusal cached', async () => {
    const fake = forgeWithKid('a-kid-nobody-made', claims(u.jwt));
    for (let i = 0; i < 2; i++) {
      const r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${fake}` } });
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.err_code, 20015);
    }
    // Another forgery under that kid: sentc said it knows no such key, it is not asked again.
    const other = forgeWithKid('a-kid-nobody-made', { ...claims(u.jwt), iat: claims(u.jwt).iat + 1 });
    const r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${other}` } });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.err_code, 20015);
    assert.equal((await jwtChecks(s)).length, 1);
    assert.equal(await checks(s, 'me', 'refused'), 1);
  });

  it("a forged token under the new key's kid gets sentc's refusal of its signature", async () => {
    const fake = forgeWithKid(k2.kid, claims(rotated));
    for (let i = 0; i < 2; i++) {
      const r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${fake}` } });
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.err_code, 20016);
    }
    assert.equal((await jwtChecks(s)).length, 1, 'the refusal is cached');
  });

  it('an expired token is refused here; a user sentc no longer knows, by sentc', async () => {
    // Expired: refused here, no call.
    const expired = (await s.session(u.id, { exp_in: -120 })).jwt;
    let r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${expired}` } });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.err_code, 20017);
    assert.deepEqual(await jwtChecks(s), []);
    // A good signature of a user deleted at sentc since: its 400/100 refuses the claims.
    const gone = await s.user('gone');
    const { jwt } = await s.session(gone.id);
    const del = await fetch(`${s.simBase}/api/v1/user/forced/delete/${gone.id}`, {
      method: 'DELETE', headers: { 'x-sentc-app-token': s.config.SENTC_SECRET_TOKEN },
    });
    assert.equal(del.status, 200);
    r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${jwt}` } });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.err_code, 20018);
    assert.equal((await jwtChecks(s)).length, 1);
  });

  it('sentc down: the fault, and nothing cached', async () => {
    const fresh = (await s.session(u.id, { exp_in: 298 })).jwt;
    await s.sim('POST', 'fail', { path: '/api/v1/user/jwt', mode: '5xx', count: 1 });
    let r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${fresh}` } });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.err_code, 20025);
    r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${fresh}` } });
    assert.equal(r.status, 200, r.text);
    assert.equal((await jwtChecks(s)).length, 2);
    assert.equal(await checks(s, 'me', 'failed'), 1);
  });

  it('with SENTC_BACKEND_JWT_KEY_CHECKS=0, sentc is never asked: 401, 20015', async () => {
    await s.restart('me', { SENTC_BACKEND_JWT_KEY_CHECKS: '0' });
    try {
      const fresh = (await s.session(u.id, { exp_in: 297 })).jwt;
      const r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${fresh}` } });
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.err_code, 20015);
      assert.deepEqual(await jwtChecks(s), []);
    } finally {
      await s.restart('me');
    }
  });
});

describe('a flood of tokens with invented key ids', () => {
  const LIMIT = 5;
  const N = 40;
  let s; let u;
  before(async () => {
    s = await start({ SENTC_BACKEND_JWT_KEY_CHECKS: String(LIMIT) });
    u = await s.user('flood');
  });
  after(() => s.stop());

  it(`makes at most ${LIMIT} calls to sentc in each minute of the clock, per program`, async () => {
    await s.clearLog();
    const tokens = Array.from({ length: N }, (_, i) => forgeWithKid(`invented-${i}-${crypto.randomUUID()}`, claims(u.jwt)));
    const t0 = Math.floor(Date.now() / 1000);
    const answers = await Promise.all(tokens.map((t) => s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${t}` } })));
    const t1 = Math.floor(Date.now() / 1000);
    const minutes = Math.floor(t1 / 60) - Math.floor(t0 / 60) + 1;
    const calls = (await jwtChecks(s)).length;
    assert.ok(calls >= 1, 'sentc was asked');
    assert.ok(calls <= LIMIT * minutes, `${calls} calls in ${minutes} minute(s) of the clock`);
    // Those asked are sentc's refusals; the rest could not be asked: 503, try again.
    const refused = answers.filter((r) => r.status === 401 && r.json.err_code === 20015).length;
    const limited = answers.filter((r) => r.status === 503 && r.json.err_code === 20040).length;
    assert.equal(refused, calls);
    assert.equal(limited, N - calls);
    assert.equal(await checks(s, 'me', 'refused'), calls);
    assert.equal(await checks(s, 'me', 'limited'), N - calls);
    // A program's count is its own: another program still asks.
    const other = forgeWithKid(`invented-${crypto.randomUUID()}`, claims(u.jwt));
    const gid = (await s.sim('POST', 'groups', { user_id: u.id, count: 1 })).group_ids[0];
    const r = await s.api('GET', `/api/v1/group/${gid}/light`, { headers: { authorization: `Bearer ${other}` } });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.err_code, 20015);
  });
});

'use strict';
// Self-test of the sentc API simulator: node --test tests/sentc-sim/selftest.js

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const { genKeyEnv } = require('./keys.js');
const { registerInput } = require('./input.js');
const { totp, waitFor } = require('../lib/common');
// The SDK's core, for the login: what it sends and decrypts is the oracle of the login sequence.
const { sdk, sent, forget, sdkError } = require('../e2e/sdk.js');

const SIM = path.join(__dirname, 'sim.js');
const PUBLIC = 'public-token-for-selftest';
const SECRET = 'secret-token-for-selftest';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sentc-sim-test-'));
const keys = genKeyEnv();

function writeEnv(name, lines) {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const goodEnv = () => writeEnv('good.env', [
  '# as the dashboard exports it, with some quoting',
  `export SENTC_PUBLIC_TOKEN="${PUBLIC}"`,
  `SENTC_SECRET_TOKEN='${SECRET}'`,
  `SENTC_JWT_SIGN_KEY=${keys.signKeyB64}`,
  `SENTC_JWT_KEY_ID=${keys.kid}`,
  `SENTC_JWT_VERIFY_KEY=${keys.verifyKeyB64}`,
]);

/* Start the sim; resolves {proc, base} once it printed its port, rejects with its stderr. */
function startSim(configFile, extraArgs = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [SIM, '--config', configFile, '--port', '0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /^sentc-sim listening on 127\.0\.0\.1:(\d+)\n/.exec(out);
      if (m) resolve({ proc, base: `http://127.0.0.1:${m[1]}`, stdout: () => out });
    });
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', (code) => reject(Object.assign(new Error(`sim exited ${code}: ${err}`), { code, stderr: err })));
  });
}

let sim;

/* A request whose answer may stop short: {status, headers, body, aborted}. */
function rawRequest(method, urlPath, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(sim.base + urlPath, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('aborted', () => resolve({ status: res.statusCode, headers: res.headers, body: text, aborted: true }));
      res.on('end', () => { if (!res.aborted) resolve({ status: res.statusCode, headers: res.headers, body: text, aborted: false }); });
      res.on('error', () => {});
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function request(method, urlPath, { token, jwt, auth, body, raw, rid, access } = {}) {
  const headers = {};
  if (rid) headers['x-request-id'] = rid;
  if (access !== undefined) headers['x-sentc-group-access-id'] = access;
  if (token) headers['x-sentc-app-token'] = token;
  if (jwt) headers.authorization = `Bearer ${jwt}`;
  if (auth) headers.authorization = auth;
  const res = await fetch(sim.base + urlPath, {
    method, headers, body: raw !== undefined ? raw : (body !== undefined ? JSON.stringify(body) : undefined),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, type: res.headers.get('content-type'), text, json };
}

const api = (method, p, opts) => request(method, `/api/v1${p}`, opts);

async function control(method, p, body) {
  const res = await request(method, `/__sim/${p}`, { body });
  assert.equal(res.json.ok, true, `control ${method} ${p}: ${res.text}`);
  return res.json;
}

function assertApiError(res, status, code) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json.status, false, res.text);
  assert.equal(res.json.err_code, code, res.text);
  assert.equal(typeof res.json.err_msg, 'string');
  assert.equal(res.type, 'application/json');
}

function assertOk(res) {
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.status, true, res.text);
  assert.equal(res.type, 'application/json');
  return res.json.result;
}

async function register(identifier) {
  return assertOk(await api('POST', '/register', { token: SECRET, body: registerInput(identifier) }));
}

async function registerWithSession(identifier, extra = {}) {
  const user = await register(identifier);
  const session = await control('POST', 'session', { user_id: user.user_id, ...extra });
  return { ...user, ...session };
}

const b64urlJson = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');

/* A JWT signed with any P-384 key, for the negative cases. */
function forgeJwt(privateKey, header, claims) {
  const data = `${b64urlJson(header)}.${b64urlJson(claims)}`;
  const sig = crypto.sign('sha384', Buffer.from(data), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${data}.${sig.toString('base64url')}`;
}

/* The dashboard verify key (raw point) as a KeyObject. */
function verifyKeyFromDashboard(b64) {
  const raw = Buffer.from(b64, 'base64');
  assert.equal(raw.length, 97);
  assert.equal(raw[0], 4);
  return crypto.createPublicKey({
    key: { kty: 'EC', crv: 'P-384', x: raw.subarray(1, 49).toString('base64url'), y: raw.subarray(49).toString('base64url') },
    format: 'jwk',
  });
}

function decodeJwt(jwt) {
  const [h, c, s] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url')),
    claims: JSON.parse(Buffer.from(c, 'base64url')),
    data: Buffer.from(`${h}.${c}`),
    signature: Buffer.from(s, 'base64url'),
  };
}

test.before(async () => { sim = await startSim(goodEnv()); });
test.beforeEach(async () => { await control('POST', 'reset'); });
test.after(async () => {
  const exited = new Promise((resolve) => sim.proc.on('exit', (code, signal) => resolve({ code, signal })));
  sim.proc.kill('SIGTERM');
  assert.deepEqual(await exited, { code: 0, signal: null });
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('config: missing or bad keys are refused, naming the key but not the secret', async () => {
  const missing = writeEnv('missing.env', [`SENTC_PUBLIC_TOKEN=${PUBLIC}`, `SENTC_SECRET_TOKEN=${SECRET}`, `SENTC_JWT_SIGN_KEY=${keys.signKeyB64}`]);
  await assert.rejects(startSim(missing), (e) => e.code !== 0 && /SENTC_JWT_KEY_ID/.test(e.stderr));

  const bad = writeEnv('bad.env', [`SENTC_PUBLIC_TOKEN=${PUBLIC}`, `SENTC_SECRET_TOKEN=${SECRET}`, 'SENTC_JWT_SIGN_KEY=bm90IGEga2V5', 'SENTC_JWT_KEY_ID=k1']);
  await assert.rejects(startSim(bad), (e) => e.code !== 0 && /SENTC_JWT_SIGN_KEY/.test(e.stderr) && !e.stderr.includes(SECRET));
});

test('startup prints exactly one line', () => {
  assert.match(sim.stdout(), /^sentc-sim listening on 127\.0\.0\.1:\d+\n$/);
});

test('register, duplicate identifier and bad input', async () => {
  const user = await register('alice');
  assert.match(user.user_id, /^[0-9a-f-]{36}$/);
  assert.match(user.device_id, /^[0-9a-f-]{36}$/);
  assert.equal(user.device_identifier, 'alice');

  assertApiError(await api('POST', '/register', { token: SECRET, body: registerInput('alice') }), 400, 101);
  assertApiError(await api('POST', '/register', { token: SECRET, raw: 'not json' }), 422, 11);
  assertApiError(await api('POST', '/register', { token: SECRET, body: { group: {} } }), 422, 11);
  const input = registerInput('x');
  assertApiError(await api('POST', '/register', { token: SECRET, body: { ...input, group: 1 } }), 422, 11);

  const state = await control('GET', 'state');
  assert.deepEqual(state.users.map(({ group_id, ...u }) => u), [{ ...user, otp: false }]);
  assert.match(state.users[0].group_id, /^[0-9a-f-]{36}$/);
});

test("register takes today's RegisterData only: a 2022 body gets serde's 422/11, the user group's sign keys 117", async () => {
  const today = registerInput('y');
  // sentc-common 0.1.0 (2022): CreateData without the hmac and sortable keys, nor public_key_sig.
  const { encrypted_hmac_key, encrypted_hmac_alg, encrypted_sortable_key, encrypted_sortable_alg, public_key_sig,
    ...group2022 } = today.group;
  const old = await api('POST', '/register', { token: SECRET, body: { ...today, group: group2022 } });
  assertApiError(old, 422, 11);
  assert.equal(old.json.err_msg, 'Wrong input: Error("missing field `encrypted_hmac_key`")');
  // The body is read before the token kind is checked, as sentc's handler does.
  assertApiError(await api('POST', '/register', { token: PUBLIC, body: { ...today, group: group2022 } }), 422, 11);
  // The first 2022 device had no derived sign keys either.
  const { verify_key, encrypted_sign_key, keypair_sign_alg, ...derived2022 } = today.device.derived;
  const dev = await api('POST', '/register', { token: SECRET, body: { ...today, device: { ...today.device, derived: derived2022 } } });
  assert.equal(dev.json.err_msg, 'Wrong input: Error("missing field `verify_key`")');
  const typed = await api('POST', '/register', { token: SECRET, body: { ...today, group: { ...today.group, group_key_alg: 7 } } });
  assertApiError(typed, 422, 11);
  assert.equal(typed.json.err_msg, 'Wrong input: Error("invalid type: integer `7`, expected a string")');
  const shape = await api('POST', '/register', { token: SECRET, body: { ...today, device: 'x' } });
  assert.equal(shape.json.err_msg, 'Wrong input: Error("invalid type: string \\"x\\", expected struct UserDeviceRegisterInput")');

  // Options that are null or missing are None; a user group without its sign keys is refused.
  for (const k of ['encrypted_sign_key', 'verify_key', 'keypair_sign_alg', 'public_key_sig']) {
    assertApiError(await api('POST', '/register', { token: SECRET, body: { ...today, group: { ...today.group, [k]: null } } }), 400, 117);
  }
  assert.equal((await control('GET', 'state')).users.length, 0, 'nothing registered');
  // Members sentc does not know are ignored.
  assertOk(await api('POST', '/register', { token: SECRET, body: { ...today, user_data: { a: 1 }, group: { ...today.group, extra: 1 } } }));
});

test('app token and token kinds', async () => {
  const body = registerInput('bob');
  assertApiError(await api('POST', '/register', { token: PUBLIC, body }), 400, 203);
  assertApiError(await api('POST', '/register', { body }), 401, 200);
  assertApiError(await api('POST', '/register', { token: 'nope', body }), 401, 200);

  // public endpoints take either token
  for (const token of [PUBLIC, SECRET]) {
    const res = assertOk(await api('POST', '/exists', { token, body: { user_identifier: 'bob' } }));
    assert.deepEqual(res, { user_identifier: 'bob', available: true });
  }
  await register('bob');
  assert.equal(assertOk(await api('POST', '/exists', { token: PUBLIC, body: { user_identifier: 'bob' } })).available, false);

  // the app options: sentc's keys and defaults, secret only for register, user delete and content
  const { endpoints } = await control('GET', 'state');
  assert.equal(Object.keys(endpoints).length, 48);
  assert.deepEqual(Object.keys(endpoints).filter((k) => endpoints[k] !== 'public').sort(),
    ['content_large', 'content_med', 'content_small', 'content_x_large', 'user_delete', 'user_register']);
  for (const k of ['group_create', 'group_get', 'group_delete', 'user_exists', 'user_jwt_refresh',
    'user_device_register', 'user_done_login', 'user_prepare_login']) assert.equal(endpoints[k], 'public', k);
  const notAnOption = await request('POST', '/__sim/endpoint', { body: { endpoint: 'prepare_register_device', kind: 'secret' } });
  assert.equal(notAnOption.status, 400, 'endpoints are named by their app option');

  // an endpoint's kind can be changed
  const dev = { device_identifier: 'dev-1' };
  await control('POST', 'endpoint', { endpoint: 'user_device_register', kind: 'secret' });
  assertApiError(await api('POST', '/user/prepare_register_device', { token: PUBLIC, body: dev }), 400, 203);
  const prepared = assertOk(await api('POST', '/user/prepare_register_device', { token: SECRET, body: dev }));
  assert.equal(prepared.device_identifier, 'dev-1');
  assert.match(prepared.device_id, /^[0-9a-f-]{36}$/);
  assertApiError(await api('POST', '/user/prepare_register_device', { token: SECRET, body: dev }), 400, 101);

  await control('POST', 'endpoint', { endpoint: 'user_exists', kind: 'blocked' });
  assertApiError(await api('POST', '/exists', { token: SECRET, body: { user_identifier: 'x' } }), 400, 203);
});

test("session JWT: today's header and claims, exactly, verified with the dashboard verify key", async () => {
  const s = await registerWithSession('carol');
  const { header, claims, data, signature } = decodeJwt(s.jwt);
  // jsonwebtoken's Header::new(ES384) with the kid; sentc-common Claims, in their order.
  assert.deepEqual(Object.entries(header), [['typ', 'JWT'], ['alg', 'ES384'], ['kid', keys.kid]]);
  assert.deepEqual(Object.keys(claims), ['aud', 'sub', 'exp', 'iat', 'fresh']);
  assert.equal(signature.length, 96);
  assert.ok(crypto.verify('sha384', data, { key: verifyKeyFromDashboard(keys.verifyKeyB64), dsaEncoding: 'ieee-p1363' }, signature));
  assert.equal(claims.aud, s.user_id);
  assert.equal(claims.sub, s.device_id);
  assert.equal(claims.exp - claims.iat, 300);
  assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 5);
  assert.equal(claims.fresh, true);
  assert.equal(typeof s.refresh_token, 'string');

  const stale = await control('POST', 'session', { device_identifier: 'carol', fresh: false, exp_in: 10 });
  assert.equal(decodeJwt(stale.jwt).claims.fresh, false);
  assert.equal(decodeJwt(stale.jwt).claims.exp - decodeJwt(stale.jwt).claims.iat, 10);

  const missing = await request('POST', '/__sim/session', { body: { user_id: crypto.randomUUID() } });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.ok, false);
});

test('JWT checks: 31 missing, 32 format, 35 kid (HTTP 200), 30 signature/alg/expiry, 100 unknown user', async () => {
  const s = await registerWithSession('dave');
  const create = (opts) => api('POST', '/group', { token: PUBLIC, body: {}, ...opts });
  const { claims } = decodeJwt(s.jwt);

  assertApiError(await create({}), 401, 31);
  assertApiError(await create({ auth: `Basic ${s.jwt}` }), 401, 31);
  assertApiError(await create({ auth: `bearer ${s.jwt}` }), 401, 31);
  assertApiError(await create({ jwt: 'not-a-jwt' }), 401, 32);
  assertApiError(await create({ jwt: `${s.jwt}.x` }), 401, 32);

  const other = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
  // an unknown kid: sentc answers HTTP 200 with the error envelope
  assertApiError(await create({ jwt: forgeJwt(other, { alg: 'ES384', typ: 'JWT', kid: 'unknown-kid' }, claims) }), 200, 35);
  assertApiError(await create({ jwt: forgeJwt(other, { alg: 'ES384', typ: 'JWT', kid: keys.kid }, claims) }), 401, 30);
  const [header, payload, signature] = s.jwt.split('.');
  assertApiError(await create({ jwt: `${header}.${b64urlJson({ ...claims, fresh: false })}.${signature}` }), 401, 30);
  const es256Header = b64urlJson({ alg: 'ES256', typ: 'JWT', kid: keys.kid });
  assertApiError(await create({ jwt: `${es256Header}.${payload}.${signature}` }), 401, 30);
  const unknownAlg = b64urlJson({ alg: 'none', typ: 'JWT', kid: keys.kid });
  assertApiError(await create({ jwt: `${unknownAlg}.${payload}.${signature}` }), 401, 32);

  // expiry follows the sim clock (with the server's 60 s leeway)
  assertOk(await create({ jwt: s.jwt }));
  await control('POST', 'clock', { advance: 300 + 30 });
  assertOk(await create({ jwt: s.jwt }));
  const clock = await control('POST', 'clock', { advance: 60 });
  assert.equal(clock.offset, 390);
  assertApiError(await create({ jwt: s.jwt }), 401, 30);
  await control('POST', 'clock', { set_offset: 0 });
  assertOk(await create({ jwt: s.jwt }));

  // a valid JWT of a deleted user
  assertOk(await api('DELETE', `/user/forced/delete/${s.user_id}`, { token: SECRET }));
  assertApiError(await create({ jwt: s.jwt }), 400, 100);
});

test('groups: create, light, 310, forced member 300, delete 301', async () => {
  const owner = await registerWithSession('erin');
  const member = await registerWithSession('frank');
  const group = assertOk(await api('POST', '/group', { token: PUBLIC, jwt: owner.jwt, body: { keys: 'opaque' } }));
  assert.match(group.group_id, /^[0-9a-f-]{36}$/);
  assertApiError(await api('POST', '/group', { token: PUBLIC, jwt: owner.jwt, raw: '[1' }), 422, 11);

  const light = assertOk(await api('GET', `/group/${group.group_id}/light`, { token: PUBLIC, jwt: owner.jwt }));
  assert.equal(light.group_id, group.group_id);
  assert.equal(light.parent_group_id, null);
  assert.equal(light.rank, 0);
  assert.equal(light.access_by, 'User');
  assert.equal(light.is_connected_group, false);
  assert.equal(typeof light.created_time, 'number');
  assert.equal(typeof light.joined_time, 'number');

  assertApiError(await api('GET', `/group/${group.group_id}/light`, { token: PUBLIC, jwt: member.jwt }), 400, 310);
  assertApiError(await api('GET', `/group/${crypto.randomUUID()}/light`, { token: PUBLIC, jwt: owner.jwt }), 400, 310);
  assertApiError(await api('GET', '/group/not-a-uuid/light', { token: PUBLIC, jwt: owner.jwt }), 400, 1);

  const forced = (gid, uid, token = SECRET) => api('GET', `/group/forced/${gid}/user/${uid}`, { token });
  assertApiError(await forced(group.group_id, member.user_id), 400, 300);
  assertApiError(await forced(crypto.randomUUID(), owner.user_id), 400, 300);
  assertApiError(await forced(group.group_id, owner.user_id, PUBLIC), 400, 203);
  const row = assertOk(await forced(group.group_id, owner.user_id));
  assert.deepEqual({ ...row, joined_time: 0 }, { user_id: owner.user_id, rank: 0, joined_time: 0, user_type: 0 });

  await control('POST', 'group/member', { group_id: group.group_id, user_id: member.user_id, rank: 2 });
  assert.equal(assertOk(await api('GET', `/group/${group.group_id}/light`, { token: PUBLIC, jwt: member.jwt })).rank, 2);
  assertApiError(await api('DELETE', `/group/${group.group_id}`, { token: PUBLIC, jwt: member.jwt }), 400, 301);
  assert.equal(assertOk(await api('DELETE', `/group/${group.group_id}`, { token: PUBLIC, jwt: owner.jwt })), 'Success');
  assertApiError(await api('GET', `/group/${group.group_id}/light`, { token: PUBLIC, jwt: owner.jwt }), 400, 310);
  assertApiError(await api('DELETE', `/group/${group.group_id}`, { token: PUBLIC, jwt: owner.jwt }), 400, 310);
});

test('refresh: expired JWT is fine, new JWT is not fresh, 114 for revoked or foreign tokens', async () => {
  const s = await registerWithSession('gina');
  const other = await registerWithSession('hank');
  await control('POST', 'clock', { advance: 3600 });
  assertApiError(await api('POST', '/group', { token: PUBLIC, jwt: s.jwt, body: {} }), 401, 30);

  const out = assertOk(await api('PUT', '/refresh', { token: PUBLIC, jwt: s.jwt, body: { refresh_token: s.refresh_token } }));
  assert.equal(out.user_id, s.user_id);
  assert.equal(out.device_id, s.device_id);
  const { header, claims, data, signature } = decodeJwt(out.jwt);
  assert.equal(header.kid, keys.kid);
  assert.equal(claims.fresh, false);
  assert.ok(claims.iat >= Math.floor(Date.now() / 1000) + 3600 - 5);
  assert.ok(crypto.verify('sha384', data, { key: verifyKeyFromDashboard(keys.verifyKeyB64), dsaEncoding: 'ieee-p1363' }, signature));
  assertOk(await api('POST', '/group', { token: PUBLIC, jwt: out.jwt, body: {} }));

  assertApiError(await api('PUT', '/refresh', { token: PUBLIC, jwt: s.jwt, body: { refresh_token: other.refresh_token } }), 400, 114);
  assertApiError(await api('PUT', '/refresh', { token: PUBLIC, jwt: s.jwt, body: { refresh_token: 'unknown' } }), 400, 114);
  await control('POST', 'revoke', { refresh_token: s.refresh_token });
  assertApiError(await api('PUT', '/refresh', { token: PUBLIC, jwt: s.jwt, body: { refresh_token: s.refresh_token } }), 400, 114);
  assertApiError(await api('PUT', '/refresh', { token: PUBLIC, body: { refresh_token: s.refresh_token } }), 401, 31);
  assertApiError(await api('PUT', '/refresh', { token: PUBLIC, jwt: s.jwt, raw: 'x' }), 422, 11);
});

test('user delete needs a fresh JWT and the secret token', async () => {
  const s = await registerWithSession('ivan');
  const stale = await control('POST', 'session', { user_id: s.user_id, fresh: false });
  assertApiError(await api('DELETE', '/user', { token: SECRET, jwt: stale.jwt }), 401, 113);
  assertApiError(await api('DELETE', '/user', { token: PUBLIC, jwt: s.jwt }), 400, 203);
  assert.equal(assertOk(await api('DELETE', '/user', { token: SECRET, jwt: s.jwt })), 'Success');
  assert.equal((await control('GET', 'state')).users.length, 0);
  assertApiError(await api('DELETE', '/user', { token: SECRET, jwt: s.jwt }), 400, 100);
});

test('forced user routes', async () => {
  const body = { user_identifier: 'judy' };
  for (const [method, p] of [['PUT', '/user/forced/delete'], ['PUT', '/user/forced/disable_otp'], ['DELETE', '/user/forced/sessions']]) {
    assertApiError(await api(method, p, { token: SECRET, body }), 400, 100);
    assertApiError(await api(method, p, { token: PUBLIC, body }), 400, 203);
    assertApiError(await api(method, p, { token: SECRET, raw: '{' }), 422, 11);
  }
  assertApiError(await api('DELETE', `/user/forced/delete/${crypto.randomUUID()}`, { token: SECRET }), 400, 100);
  assertApiError(await api('DELETE', '/user/forced/disable_otp', { token: SECRET, body }), 404, 404);

  const s = await registerWithSession('judy');
  assert.equal(assertOk(await api('PUT', '/user/forced/disable_otp', { token: SECRET, body })), 'Success');
  assert.equal(assertOk(await api('DELETE', '/user/forced/sessions', { token: SECRET, body })), 'Success');
  assert.equal((await control('GET', 'state')).refresh_tokens, 0);
  assertApiError(await api('PUT', '/refresh', { token: PUBLIC, jwt: s.jwt, body: { refresh_token: s.refresh_token } }), 400, 114);
  assert.equal(assertOk(await api('PUT', '/user/forced/delete', { token: SECRET, body })), 'Success');
  assertApiError(await api('PUT', '/user/forced/delete', { token: SECRET, body }), 400, 100);

  const k = await register('ken');
  assert.equal(assertOk(await api('DELETE', `/user/forced/delete/${k.user_id}`, { token: SECRET })), 'Success');
  assert.equal((await control('GET', 'state')).users.length, 0);
});

const PASSWORD = 'correct horse battery staple';

/* The SDK's own register, straight to the simulator (the secret token, as a backend sends it). */
async function sdkRegister(name) {
  const id = await sdk.register(sim.base, SECRET, name, PASSWORD);
  forget();
  return id;
}

/* What the SDK sent to the API since forget() (the test's own calls go through fetch too). */
const sdkSent = () => sent().filter((r) => new URL(r.url).pathname.startsWith('/api/'));
const sentPaths = () => sdkSent().map((r) => [r.method, new URL(r.url).pathname, r.headers['x-sentc-app-token'], r.headers.authorization]);

test("login: sentc_wasm's own login() runs prepare_login, done_login and verify_login", async () => {
  const userId = await sdkRegister('quinn');
  const out = await sdk.login(sim.base, PUBLIC, 'quinn', PASSWORD);
  assert.deepEqual(sentPaths(), [
    ['POST', '/api/v1/prepare_login', PUBLIC, undefined],
    ['POST', '/api/v1/done_login', PUBLIC, undefined],
    ['POST', '/api/v1/verify_login', PUBLIC, undefined],
  ]);
  assert.deepEqual(Object.keys(JSON.parse(sdkSent()[2].body)).sort(), ['auth_key', 'challenge', 'device_identifier']);
  assert.equal(out.get_id(), userId);
  const st = await control('GET', 'state');
  const user = st.users.find((u) => u.user_id === userId);
  assert.equal(out.get_device_id(), user.device_id);
  // The user group's key, decrypted by the SDK with the device key, and its hmac key.
  assert.equal(out.get_user_keys().length, 1);
  assert.equal(out.get_hmac_keys().length, 1);
  const { header, claims, data, signature } = decodeJwt(out.get_jwt());
  assert.equal(header.kid, keys.kid);
  assert.deepEqual(claims, { aud: userId, sub: user.device_id, exp: claims.iat + 300, iat: claims.iat, fresh: true });
  assert.ok(crypto.verify('sha384', data, { key: verifyKeyFromDashboard(keys.verifyKeyB64), dsaEncoding: 'ieee-p1363' }, signature));
  // The refresh token is sentc's: 50 random bytes, base64url without padding, good for a refresh.
  assert.match(out.get_refresh_token(), /^[A-Za-z0-9_-]{67}$/);
  assert.equal(st.refresh_tokens, 1);
  const next = await sdk.refresh_jwt(sim.base, PUBLIC, out.get_jwt(), out.get_refresh_token());
  assert.equal(decodeJwt(next).claims.fresh, false);

  // The challenge was used up: the same verify_login again is a wrong login.
  const replay = await api('POST', '/verify_login', { token: PUBLIC, raw: sdkSent()[2].body });
  assertApiError(replay, 401, 112);
});

test('login: salts, wrong passwords, unknown names, key formats, typed bodies and token kinds', async () => {
  await sdkRegister('rita');
  const salt = async (name) => assertOk(await api('POST', '/prepare_login', { token: PUBLIC, body: { user_identifier: name } }));
  const known = await salt('rita');
  assert.deepEqual(Object.keys(known), ['salt_string', 'derived_encryption_key_alg']);
  assert.equal(known.derived_encryption_key_alg, 'ARGON-2-SHA256');
  assert.equal(Buffer.from(known.salt_string, 'base64').length, 32);
  // An unknown name gets a salt too, always the same for that name.
  const ghost = await salt('nobody-here');
  assert.deepEqual(await salt('nobody-here'), ghost);
  assert.notEqual(ghost.salt_string, (await salt('nobody-else')).salt_string);

  await assert.rejects(sdk.login(sim.base, PUBLIC, 'rita', 'wrong password'), (e) => sdkError(e).status === 'server_112');
  await assert.rejects(sdk.login(sim.base, PUBLIC, 'nobody-here', PASSWORD), (e) => sdkError(e).status === 'server_100');
  const done = (body) => api('POST', '/done_login', { token: PUBLIC, body });
  assertApiError(await done({ device_identifier: 'rita', auth_key: 'not base64' }), 401, 111);
  assertApiError(await done({ device_identifier: 'rita', auth_key: Buffer.alloc(16).toString('base64') }), 401, 111);
  assertApiError(await done({ device_identifier: 'rita', auth_key: Buffer.alloc(32).toString('base64') }), 401, 112);
  assertApiError(await done({ device_identifier: 'rita' }), 422, 11);
  assertApiError(await api('POST', '/verify_login', { token: PUBLIC, body: { device_identifier: 'rita', auth_key: 'x' } }), 422, 11);
  assertApiError(await api('POST', '/prepare_login', { token: PUBLIC, body: { user_identifier: 1 } }), 422, 11);
  // A user registered with stand-in keys has no password that matches.
  await register('stand-in');
  assertApiError(await done({ device_identifier: 'stand-in', auth_key: Buffer.alloc(32).toString('base64') }), 401, 112);

  // user_done_login covers done_login, validate_mfa, validate_recovery_otp and verify_login.
  await control('POST', 'endpoint', { endpoint: 'user_done_login', kind: 'secret' });
  forget();
  await assert.rejects(sdk.login(sim.base, PUBLIC, 'rita', PASSWORD), (e) => sdkError(e).status === 'server_203');
  assert.deepEqual(sentPaths().map((x) => x[1]), ['/api/v1/prepare_login', '/api/v1/done_login']);
  assert.equal((await sdk.login(sim.base, SECRET, 'rita', PASSWORD)).get_refresh_token().length, 67);
  await control('POST', 'endpoint', { endpoint: 'user_prepare_login', kind: 'blocked' });
  await assert.rejects(sdk.login(sim.base, SECRET, 'rita', PASSWORD), (e) => sdkError(e).status === 'server_203');
});

test("mfa: a TOTP turned on makes login() stop at done_login; mfa_login() with the code or a recovery key, once", async () => {
  const userId = await sdkRegister('sam');
  const otp = await control('POST', 'otp', { device_identifier: 'sam' });
  assert.equal(otp.alg, 'totp_sha256');
  assert.match(otp.secret, /^[A-Z2-7]{52}$/);
  assert.equal(otp.recover.length, 6);
  assert.equal((await control('GET', 'state')).users.find((u) => u.user_id === userId).otp, true);

  forget();
  const pre = await sdk.login(sim.base, PUBLIC, 'sam', PASSWORD);
  assert.equal(pre.get_jwt(), undefined);
  assert.equal(pre.get_refresh_token(), undefined);
  assert.equal(typeof pre.get_mfa_master_key(), 'string');
  assert.deepEqual(sentPaths().map((x) => x[1]), ['/api/v1/prepare_login', '/api/v1/done_login']);
  forget();

  const mfa = (token, recovery) => sdk.mfa_login(sim.base, PUBLIC, pre.get_mfa_master_key(), pre.get_mfa_auth_key(), 'sam', token, recovery);
  // The simulator's clock set to the middle of a 30 s step, so that no step ends during the test.
  const offset = 15 - ((Date.now() / 1000) % 30);
  await control('POST', 'clock', { set_offset: offset });
  const now = Date.now() / 1000 + offset;
  const wrong = totp(otp.secret, now) === '000000' ? '000001' : '000000';
  await assert.rejects(mfa(wrong, false), (e) => sdkError(e).status === 'server_902');
  const user = await mfa(totp(otp.secret, now), false);
  assert.equal(user.get_id(), userId);
  assert.equal(decodeJwt(user.get_jwt()).claims.fresh, true);
  assert.deepEqual(sdkSent().map((r) => new URL(r.url).pathname), ['/api/v1/validate_mfa', '/api/v1/validate_mfa', '/api/v1/verify_login']);
  assert.deepEqual(Object.keys(JSON.parse(sdkSent()[1].body)).sort(), ['auth_key', 'device_identifier', 'token']);
  // The code of the step before and after count; two steps away does not (the simulator's clock).
  await control('POST', 'clock', { advance: 30 });
  assert.equal((await mfa(totp(otp.secret, now), false)).get_id(), userId);
  await control('POST', 'clock', { advance: -60 });
  assert.equal((await mfa(totp(otp.secret, now), false)).get_id(), userId);
  await control('POST', 'clock', { advance: 120 });
  await assert.rejects(mfa(totp(otp.secret, now), false), (e) => sdkError(e).status === 'server_902');
  await control('POST', 'clock', { set_offset: 0 });

  forget();
  assert.equal((await mfa(otp.recover[0], true)).get_id(), userId);
  assert.equal(new URL(sdkSent()[0].url).pathname, '/api/v1/validate_recovery_otp');
  await assert.rejects(mfa(otp.recover[0], true), (e) => sdkError(e).status === 'server_901');
  await assert.rejects(mfa('NOTAKEY', true), (e) => sdkError(e).status === 'server_901');

  // A user without a second factor: validate_mfa is 400/901; the admin's disable_otp turns it off.
  const plain = { token: '123456', auth_key: pre.get_mfa_auth_key(), device_identifier: 'sam' };
  assertOk(await api('PUT', '/user/forced/disable_otp', { token: SECRET, body: { user_identifier: 'sam' } }));
  assertApiError(await api('POST', '/validate_mfa', { token: PUBLIC, body: plain }), 400, 901);
  assertApiError(await api('POST', '/validate_recovery_otp', { token: PUBLIC, body: { ...plain, token: otp.recover[1] } }), 400, 901);
  assert.equal(typeof (await sdk.login(sim.base, PUBLIC, 'sam', PASSWORD)).get_jwt(), 'string');
  assert.equal((await request('POST', '/__sim/otp', { body: { device_identifier: 'nobody' } })).status, 404);
});

test('unknown routes and wrong methods are 404 envelopes', async () => {
  assertApiError(await api('GET', '/nothing', { token: PUBLIC }), 404, 404);
  assertApiError(await api('GET', '/register', { token: SECRET }), 404, 404);
  assertApiError(await request('GET', '/elsewhere'), 404, 404);
  const unknownControl = await request('GET', '/__sim/nothing');
  assert.equal(unknownControl.status, 404);
  assert.equal(unknownControl.json.ok, false);
});

test('faults: 5xx, garbage, close, delay, prefix, count and rate', async () => {
  const exists = () => api('POST', '/exists', { token: PUBLIC, body: { user_identifier: 'x' } });

  await control('POST', 'fail', { path: '/api/v1/exists', method: 'POST', count: 2, mode: '5xx', status: 503 });
  assertApiError(await exists(), 503, 1);
  assertApiError(await exists(), 503, 1);
  assertOk(await exists());

  await control('POST', 'fail', { path: '/api/v1/exists', mode: 'garbage' });
  const garbage = await exists();
  assert.equal(garbage.status, 200);
  assert.equal(garbage.text, '<html>not json</html>');
  assert.match(garbage.type, /^text\/html/);

  await control('POST', 'fail', { path: '/api/v1/ex*', mode: 'close' });
  await assert.rejects(exists());
  assertOk(await exists());

  // truncate: the request takes effect, its answer stops halfway.
  await control('POST', 'fail', { path: '/api/v1/register', mode: 'truncate' });
  const cut = await rawRequest('POST', '/api/v1/register', { 'x-sentc-app-token': SECRET, 'content-type': 'application/json' },
    JSON.stringify(registerInput('truncated')));
  assert.equal(cut.status, 200);
  assert.ok(cut.aborted, 'the connection closed before the end of the body');
  assert.ok(cut.body.length > 0 && cut.body.length < Number(cut.headers['content-length']));
  assert.ok((await control('GET', 'state')).users.some((u) => u.device_identifier === 'truncated'));

  await control('POST', 'fail', { path: '/api/v1/exists', method: 'GET', mode: '5xx' });
  assertOk(await exists()); // method does not match
  await control('DELETE', 'fail');

  await control('POST', 'fail', { path: '/api/v1/exists', mode: 'delay', delay_ms: 300 });
  const started = Date.now();
  assertOk(await exists());
  assert.ok(Date.now() - started >= 290);

  await control('POST', 'fail', { path: '/api/*', rate: 1, modes: ['5xx', 'garbage'] });
  for (let i = 0; i < 5; i++) assert.notEqual((await exists()).json?.status, true);
  await control('DELETE', 'fail');
  assertOk(await exists());

  const bad = await request('POST', '/__sim/fail', { body: { path: '/x', mode: 'explode' } });
  assert.equal(bad.status, 400);
});

test('faults applied are counted by mode and route; a delayed request takes effect even if its caller gave up', async () => {
  assert.deepEqual(await control('GET', 'fail'), { ok: true, faults: 0, applied: [] });
  const u = await register('counted');
  await control('POST', 'fail', { path: '/api/v1/user/forced/delete/*', count: 2, mode: '5xx' });
  // Held 3 s: the caller gives up, and the state is read, before it lands, on a busy machine too.
  await control('POST', 'fail', { path: '/api/v1/register', mode: 'delay', delay_ms: 3000 });
  assert.equal((await control('GET', 'fail')).faults, 2);
  for (let i = 0; i < 2; i++) {
    assertApiError(await api('DELETE', `/user/forced/delete/${u.user_id}`, { token: SECRET }), 500, 1);
  }
  // The caller gives up once the simulator has the request; the register lands when the delay ends.
  await control('DELETE', 'log');
  const giveUp = new AbortController();
  const late = fetch(`${sim.base}/api/v1/register`, {
    method: 'POST',
    headers: { 'x-sentc-app-token': SECRET, 'content-type': 'application/json' },
    body: JSON.stringify(registerInput('late')),
    signal: giveUp.signal,
  });
  await waitFor(async () => (await control('GET', 'log')).requests.some((x) => x.path === '/api/v1/register'),
    'the simulator to have the register');
  giveUp.abort();
  await assert.rejects(late);
  assert.ok(!(await control('GET', 'state')).users.some((x) => x.device_identifier === 'late'));
  await waitFor(async () => (await control('GET', 'state')).users.some((x) => x.device_identifier === 'late'),
    'the late register to land');

  const { faults, applied } = await control('GET', 'fail');
  assert.equal(faults, 0);
  const byKey = Object.fromEntries(applied.map((a) => [`${a.mode} ${a.method} ${a.path}`, a.count]));
  assert.deepEqual(byKey, {
    '5xx DELETE /api/v1/user/forced/delete/:user_id': 2,
    'delay POST /api/v1/register': 1,
  });
  await control('DELETE', 'fail');
  assert.equal((await control('GET', 'fail')).applied.length, 2, 'DELETE fail keeps the counts');
  await control('POST', 'reset');
  assert.deepEqual((await control('GET', 'fail')).applied, []);
});

test('request log records every /api request in order, with token kind, auth, body and answer', async () => {
  const s = await registerWithSession('lena');
  await control('DELETE', 'log');
  await api('POST', '/group', { token: PUBLIC, jwt: s.jwt, body: { a: 1 }, rid: 'req-42' });
  await api('POST', '/register', { token: 'bogus', raw: 'plain text' });
  await api('GET', '/nothing');
  await api('DELETE', `/user/forced/delete/${s.user_id}`, { token: SECRET });

  const { requests } = await control('GET', 'log');
  assert.deepEqual(requests.map((r) => [r.method, r.path, r.token]), [
    ['POST', '/api/v1/group', 'public'],
    ['POST', '/api/v1/register', 'unknown'],
    ['GET', '/api/v1/nothing', 'none'],
    ['DELETE', `/api/v1/user/forced/delete/${s.user_id}`, 'secret'],
  ]);
  assert.equal(requests[0].auth, s.jwt);
  assert.deepEqual(requests[0].body, { a: 1 });
  assert.equal(requests[1].body, 'plain text');
  assert.equal(requests[2].body, null);
  assert.equal(requests[2].auth, null);
  assert.equal(requests[0].request_id, 'req-42');
  assert.equal(requests[0].group_access_id, null);
  assert.equal(requests[1].request_id, null);
  assert.ok(requests[1].seq > requests[0].seq);
  assert.equal(typeof requests[0].time_ms, 'number');
  // The answer each got, as sent.
  assert.equal(requests[0].status, 200);
  assert.match(JSON.parse(requests[0].response).result.group_id, /^[0-9a-f-]{36}$/);
  assert.equal(requests[1].status, 401);
  assert.deepEqual(JSON.parse(requests[1].response), { status: false, err_msg: 'No valid app token', err_code: 200 });
  assert.equal(requests[2].status, 404);

  // A fault that answers itself leaves no answer in the record.
  await control('DELETE', 'log');
  await control('POST', 'fail', { path: '/api/v1/nothing', mode: 'garbage' });
  await api('GET', '/nothing');
  const [faulted] = (await control('GET', 'log')).requests;
  assert.equal(faulted.status, null);
  assert.equal(faulted.response, null);
});

test('signing keys: add (current), old JWTs still verify, removed kid gives 200/35', async () => {
  const s = await registerWithSession('mona');
  const next = genKeyEnv();
  const added = await control('POST', 'keys', { kid: next.kid, sign_key: next.signKeyB64, current: true });
  assert.equal(added.verify_key, next.verifyKeyB64);

  const fresh = await control('POST', 'session', { user_id: s.user_id });
  assert.equal(decodeJwt(fresh.jwt).header.kid, next.kid);
  const old = await control('POST', 'session', { user_id: s.user_id, kid: keys.kid });
  assert.equal(decodeJwt(old.jwt).header.kid, keys.kid);
  assertOk(await api('POST', '/group', { token: PUBLIC, jwt: s.jwt, body: {} }));

  await control('DELETE', 'keys', { kid: keys.kid });
  assertApiError(await api('POST', '/group', { token: PUBLIC, jwt: s.jwt, body: {} }), 200, 35);
  assertOk(await api('POST', '/group', { token: PUBLIC, jwt: fresh.jwt, body: {} }));
  // reset brings the configured key back
  await control('POST', 'reset');
  assert.equal((await control('GET', 'state')).current_kid, keys.kid);
});

test('keep-alive: a second request reuses the connection', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = () => new Promise((resolve, reject) => {
    const req = http.get(`${sim.base}/__sim/health`, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(req.reusedSocket));
    });
    req.on('error', reject);
  });
  assert.equal(await get(), false);
  assert.equal(await get(), true);
  agent.destroy();
});

test('bulk groups: each has the user as its only member, at the rank asked', async () => {
  const s = await registerWithSession('nina');
  const other = await registerWithSession('oscar');
  const { group_ids: ids } = await control('POST', 'groups', { user_id: s.user_id, count: 3, rank: 2 });
  assert.equal(ids.length, 3);
  assert.equal(new Set(ids).size, 3);
  for (const gid of ids) {
    assert.equal(assertOk(await api('GET', `/group/${gid}/light`, { token: PUBLIC, jwt: s.jwt })).rank, 2);
    assertApiError(await api('GET', `/group/${gid}/light`, { token: PUBLIC, jwt: other.jwt }), 400, 310);
  }
  const byName = await control('POST', 'groups', { device_identifier: 'nina', count: 1 });
  assert.equal(assertOk(await api('GET', `/group/${byName.group_ids[0]}/light`, { token: PUBLIC, jwt: s.jwt })).rank, 0);

  for (const bad of [{ user_id: s.user_id, count: 0 }, { user_id: s.user_id, count: 1.5 },
    { user_id: s.user_id, count: 1, rank: 5 }]) {
    assert.equal((await request('POST', '/__sim/groups', { body: bad })).status, 400);
  }
  assert.equal((await request('POST', '/__sim/groups', { body: { device_identifier: 'nobody', count: 1 } })).status, 404);
});

test('stats count connections accepted, open and requests, across resets', async () => {
  // Each call on its own agent is one connection; the kept-alive agent makes one for three.
  const call = (method, p, agent = false) => new Promise((resolve, reject) => {
    const req = http.request(`${sim.base}${p}`, { method, agent }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve(text === '' ? {} : JSON.parse(text)));
    });
    req.on('error', reject);
    req.end();
  });
  const before = await call('GET', '/__sim/stats');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 3; i++) await call('GET', '/api/v1/nothing', agent);
  await call('POST', '/__sim/reset');
  const after = await call('GET', '/__sim/stats');
  agent.destroy();
  assert.equal(after.ok, true);
  assert.equal(after.connections - before.connections, 3);
  assert.equal(after.requests - before.requests, 5);
  assert.ok(after.open >= 1);
});

test('chunked: the answer as usual, in chunks; drop: idle kept connections closed', async () => {
  await control('POST', 'fail', { path: '/api/v1/exists', mode: 'chunked', count: 2 });
  const body = JSON.stringify({ user_identifier: 'x' });
  const a = await rawRequest('POST', '/api/v1/exists', { 'x-sentc-app-token': PUBLIC, 'content-type': 'application/json' }, body);
  assert.equal(a.headers['transfer-encoding'], 'chunked');
  assert.equal(a.headers['content-length'], undefined);
  assert.deepEqual(JSON.parse(a.body), { status: true, result: { user_identifier: 'x', available: true } });
  // An error envelope too.
  const b = await rawRequest('POST', '/api/v1/exists', { 'content-type': 'application/json' }, body);
  assert.equal(b.headers['transfer-encoding'], 'chunked');
  assert.equal(JSON.parse(b.body).status, false);

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = () => new Promise((resolve, reject) => {
    const req = http.request(`${sim.base}/__sim/health`, { agent }, (res) => {
      const { socket } = res;
      res.resume();
      res.on('end', () => resolve(socket));
    });
    req.on('error', reject);
    req.end();
  });
  const sock = await get();
  const closed = new Promise((resolve) => { sock.once('close', resolve); });
  await control('POST', 'drop');
  await closed;
  agent.destroy();
});

test('vanish: the request takes effect, the connection closes without an answer', async () => {
  await control('POST', 'fail', { path: '/api/v1/register', mode: 'vanish', count: 1 });
  await assert.rejects(register('vera'));
  const { users } = await control('GET', 'state');
  assert.ok(users.some((u) => u.device_identifier === 'vera'), 'the user was made');
  const [rec] = (await control('GET', 'log')).requests.filter((r) => r.path === '/api/v1/register');
  assert.equal(rec.response, null, 'no answer left the simulator');
  const { applied } = await control('GET', 'fail');
  assert.deepEqual(applied.filter((a) => a.mode === 'vanish').map((a) => a.count), [1]);
});

test('refresh: one JWT per second and session, signed anew once the clock moves on', async () => {
  const s = await registerWithSession('paul');
  const refresh = () => api('PUT', '/refresh', { token: PUBLIC, jwt: s.jwt, body: { refresh_token: s.refresh_token } });
  const a = assertOk(await refresh()).jwt;
  const b = assertOk(await refresh()).jwt;
  await control('POST', 'clock', { advance: 7 });
  const c = assertOk(await refresh()).jwt;
  const [ca, cb, cc] = [a, b, c].map((j) => decodeJwt(j).claims);
  // a and b come within a second or two of each other: equal claims make equal JWTs.
  if (ca.iat === cb.iat) assert.equal(a, b);
  assert.ok(cc.iat >= ca.iat + 7, 'a new iat once the clock moved');
  assert.equal(cc.exp, cc.iat + 300);
  assert.equal(cc.fresh, false);
  const { data, signature } = decodeJwt(c);
  assert.ok(crypto.verify('sha384', data, { key: verifyKeyFromDashboard(keys.verifyKeyB64), dsaEncoding: 'ieee-p1363' }, signature));
});

test('GET /user/jwt: the secret token and a valid JWT give the user and device; what sentc refuses', async () => {
  const s = await registerWithSession('quinn');
  assert.deepEqual(assertOk(await api('GET', '/user/jwt', { token: SECRET, jwt: s.jwt })),
    { id: s.user_id, device_id: s.device_id });
  // checks in sentc's order: app token, JWT, then the secret token (ForceServer)
  assertApiError(await api('GET', '/user/jwt', { token: PUBLIC, jwt: s.jwt }), 400, 203);
  assertApiError(await api('GET', '/user/jwt', { token: PUBLIC }), 401, 31);
  assertApiError(await api('GET', '/user/jwt', { jwt: s.jwt }), 401, 200);
  await control('POST', 'endpoint', { endpoint: 'user_exists', kind: 'blocked' });
  assertOk(await api('GET', '/user/jwt', { token: SECRET, jwt: s.jwt }));

  const { claims } = decodeJwt(s.jwt);
  const other = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
  assertApiError(await api('GET', '/user/jwt', { token: SECRET, jwt: forgeJwt(other, { alg: 'ES384', typ: 'JWT', kid: 'nope' }, claims) }), 200, 35);
  assertApiError(await api('GET', '/user/jwt', { token: SECRET, jwt: forgeJwt(other, { alg: 'ES384', typ: 'JWT', kid: keys.kid }, claims) }), 401, 30);
  const expired = await control('POST', 'session', { user_id: s.user_id, exp_in: -120 });
  assertApiError(await api('GET', '/user/jwt', { token: SECRET, jwt: expired.jwt }), 401, 30);

  // a rotated key: sentc knows it, so it answers for a JWT signed with it
  const next = genKeyEnv();
  await control('POST', 'keys', { kid: next.kid, sign_key: next.signKeyB64, current: true });
  const rotated = await control('POST', 'session', { user_id: s.user_id });
  assert.equal(decodeJwt(rotated.jwt).header.kid, next.kid);
  assert.equal(assertOk(await api('GET', '/user/jwt', { token: SECRET, jwt: rotated.jwt })).id, s.user_id);
  assertOk(await api('DELETE', `/user/forced/delete/${s.user_id}`, { token: SECRET }));
  assertApiError(await api('GET', '/user/jwt', { token: SECRET, jwt: rotated.jwt }), 400, 100);
});

test('groups through parents and connected groups, with x-sentc-group-access-id', async () => {
  const owner = await registerWithSession('rose');
  const member = await registerWithSession('sam');
  const stranger = await registerWithSession('tom');
  const light = (gid, who, access) => api('GET', `/group/${gid}/light`, { token: PUBLIC, jwt: who.jwt, access });
  const create = (p, who, access) => api('POST', p, { token: PUBLIC, jwt: who.jwt, body: { keys: 'opaque' }, access });

  // A child group: the parent's members reach it through the parent.
  const parent = assertOk(await create('/group', owner)).group_id;
  const child = assertOk(await create(`/group/${parent}/child`, owner)).group_id;
  let l = assertOk(await light(child, owner));
  assert.equal(l.parent_group_id, parent);
  assert.deepEqual(l.access_by, { Parent: parent });
  assert.equal(l.rank, 0);
  assertApiError(await light(child, stranger), 400, 310);

  // A connected group G with the group G' as its member; sam is only in G'.
  const gp = assertOk(await create('/group', owner)).group_id;
  const g = assertOk(await create(`/group/${gp}/connected`, owner)).group_id;
  assertApiError(await create(`/group/${g}/connected`, owner, gp), 400, 318);
  await control('POST', 'group/member', { group_id: gp, user_id: member.user_id, rank: 3 });
  assertApiError(await light(g, member), 400, 310);
  l = assertOk(await light(g, member, gp));
  assert.deepEqual(l.access_by, { GroupAsUser: gp });
  assert.equal(l.is_connected_group, true);
  assert.equal(l.rank, 3, 'the weaker of the two ranks');
  assertApiError(await light(g, stranger, gp), 400, 310);
  assertApiError(await light(g, member, crypto.randomUUID()), 400, 310);
  assertApiError(await light(g, member, 'not-a-uuid'), 400, 1);
  // the header on a group G' is not a member of
  assertApiError(await light(gp, owner, gp), 400, 310);
  // deleting needs rank 1 or stronger, the rank reached through G' counts
  assertApiError(await api('DELETE', `/group/${g}`, { token: PUBLIC, jwt: member.jwt, access: gp }), 400, 301);

  // A child of the connected group, reached as a member of G' through its parent G.
  const gchild = assertOk(await create(`/group/${g}/child`, owner, gp)).group_id;
  l = assertOk(await light(gchild, member, gp));
  assert.deepEqual(l.access_by, { GroupAsUserAsParent: { parent: g, group_as_user: gp } });
  assert.equal(l.is_connected_group, true, 'the child of a connected group is one too');

  const st = await control('GET', 'state');
  assert.deepEqual(st.groups.find((x) => x.group_id === g).group_members, [{ group_id: gp, rank: 0 }]);
  // a group deleted takes its children and its memberships along
  assertOk(await api('DELETE', `/group/${g}`, { token: PUBLIC, jwt: owner.jwt, access: gp }));
  const after = (await control('GET', 'state')).groups.map((x) => x.group_id);
  assert.ok(!after.includes(g) && !after.includes(gchild) && after.includes(gp));

  // the request log has the header
  const { requests } = await control('GET', 'log');
  assert.equal(requests.at(-1).group_access_id, gp);
});

/* Polls the simulator's stats until pred(stats) holds; the last stats. */
async function statsUntil(pred, what, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const st = await control('GET', 'stats');
    if (pred(st)) return st;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(st)}`);
    await new Promise((r) => { setTimeout(r, 20); });
  }
}

test('delay: every API answer waits, on a timer of its own: many delayed requests in flight at once, control routes not delayed', async () => {
  const N = 50;
  const DELAY = 1000;
  assert.deepEqual(await control('POST', 'delay', { ms: DELAY }), { ok: true, delay_ms: DELAY });
  assert.equal((await control('GET', 'stats')).delay_ms, DELAY);
  await control('DELETE', 'stats');
  const t0 = Date.now();
  const pending = Array.from({ length: N }, (_, i) => api('POST', '/exists', { token: PUBLIC, body: { user_identifier: `d${i}` } })
    .then((r) => ({ r, ms: Date.now() - t0 })));
  // All of them are in the simulator at once, and the control route answers meanwhile.
  const st = await statsUntil((x) => x.in_flight === N, `${N} delayed requests in flight`);
  assert.equal(st.in_flight_max, N);
  assert.equal(st.held, 0);
  for (const { r, ms } of await Promise.all(pending)) {
    assert.equal(assertOk(r).available, true);
    assert.ok(ms >= DELAY - 10, `answered after ${ms} ms`);
  }
  const after = await statsUntil((x) => x.in_flight === 0, 'nothing in flight');
  assert.equal(after.in_flight_max, N);

  // An error envelope waits too; a change applies to the requests that arrive after it.
  await control('POST', 'delay', { ms: 300 });
  const t1 = Date.now();
  assertApiError(await api('POST', '/exists', { body: { user_identifier: 'x' } }), 401, 200);
  assert.ok(Date.now() - t1 >= 290);
  await control('POST', 'delay', { ms: 0 });
  assertOk(await api('POST', '/exists', { token: PUBLIC, body: { user_identifier: 'x' } }));

  for (const bad of [{}, { ms: -1 }, { ms: 1.5 }, { ms: '20' }, { ms: 600001 }]) {
    const r = await request('POST', '/__sim/delay', { body: bad });
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.equal(r.json.ok, false);
  }
});

test('--delay-ms at start: every API answer waits from the first; a reset goes back to it; a bad value is refused', async () => {
  const slow = await startSim(goodEnv(), ['--delay-ms', '200']);
  try {
    const get = async (p, init) => {
      const t0 = Date.now();
      const res = await fetch(slow.base + p, init);
      return { json: await res.json(), ms: Date.now() - t0 };
    };
    const exists = { method: 'POST', headers: { 'x-sentc-app-token': PUBLIC }, body: JSON.stringify({ user_identifier: 'x' }) };
    const a = await get('/api/v1/exists', exists);
    assert.equal(a.json.status, true);
    assert.ok(a.ms >= 190, `answered after ${a.ms} ms`);
    assert.equal((await get('/__sim/stats')).json.delay_ms, 200);
    await get('/__sim/delay', { method: 'POST', body: JSON.stringify({ ms: 0 }) });
    assert.equal((await get('/__sim/stats')).json.delay_ms, 0);
    await get('/__sim/reset', { method: 'POST' });
    assert.equal((await get('/__sim/stats')).json.delay_ms, 200, 'back to --delay-ms');
  } finally {
    const exited = new Promise((resolve) => slow.proc.on('exit', resolve));
    slow.proc.kill('SIGTERM');
    await exited;
  }
  for (const v of ['-5', 'soon', '600001']) {
    await assert.rejects(startSim(goodEnv(), ['--delay-ms', v]), (e) => e.code === 2 && /--delay-ms/.test(e.stderr), v);
  }
});

test('hold: requests wait unanswered, their effects too, until release; then each is handled as usual', async () => {
  const path = '/api/v1/user/prepare_register_device';
  await control('POST', 'fail', { path, mode: 'hold', count: 3 });
  await control('DELETE', 'stats');
  const prepare = (id) => api('POST', '/user/prepare_register_device', { token: PUBLIC, body: { device_identifier: id } });
  const held = ['h1', 'h2', 'h3'].map(prepare);
  await statsUntil((x) => x.held === 3 && x.in_flight === 3, 'three held requests');
  // The fault is used up: the next one answers at once, while the three still wait.
  assert.equal(assertOk(await prepare('h4')).device_identifier, 'h4');
  let st = await control('GET', 'stats');
  assert.equal(st.held, 3);
  assert.equal(st.in_flight, 3);
  assert.equal(st.in_flight_max, 4);
  assert.deepEqual((await control('GET', 'state')).prepared_devices.map((d) => d.device_identifier), ['h4'],
    'the held ones took no effect yet');

  assert.deepEqual(await control('POST', 'release'), { ok: true, released: 3 });
  const answers = await Promise.all(held);
  assert.deepEqual(answers.map((r) => assertOk(r).device_identifier), ['h1', 'h2', 'h3']);
  st = await statsUntil((x) => x.in_flight === 0, 'nothing in flight');
  assert.equal(st.held, 0);
  assert.equal((await control('GET', 'state')).prepared_devices.length, 4);
  assert.deepEqual(await control('POST', 'release'), { ok: true, released: 0 }, 'nothing left to release');
  const { applied } = await control('GET', 'fail');
  assert.deepEqual(applied, [{ mode: 'hold', method: 'POST', path, count: 3 }]);

  // Held until cleared (rate 1), on a prefix; a reset drops them: no answer, no effect.
  await control('POST', 'fail', { path: '/api/v1/user/*', rate: 1, modes: ['hold'] });
  const more = ['m1', 'm2'].map(prepare);
  await statsUntil((x) => x.held === 2, 'two held requests');
  await control('POST', 'reset');
  for (const r of await Promise.allSettled(more)) assert.equal(r.status, 'rejected', 'the connection closed');
  const st2 = await statsUntil((x) => x.in_flight === 0, 'nothing in flight');
  assert.equal(st2.held, 0);
  assert.deepEqual((await control('GET', 'state')).prepared_devices, []);
});

test('a held request whose caller gave up still takes effect when released, and leaves the flight then', async () => {
  await control('POST', 'fail', { path: '/api/v1/user/prepare_register_device', mode: 'hold' });
  const ac = new AbortController();
  const gone = fetch(`${sim.base}/api/v1/user/prepare_register_device`, {
    method: 'POST', headers: { 'x-sentc-app-token': PUBLIC }, body: JSON.stringify({ device_identifier: 'quitter' }), signal: ac.signal,
  });
  await statsUntil((x) => x.held === 1, 'the held request');
  ac.abort();
  await assert.rejects(gone);
  assert.equal((await control('GET', 'stats')).in_flight, 1, 'still held');
  await control('POST', 'release');
  await statsUntil((x) => x.in_flight === 0, 'nothing in flight');
  assert.deepEqual((await control('GET', 'state')).prepared_devices.map((d) => d.device_identifier), ['quitter']);
});

test('stats: DELETE zeroes the counters and starts the peak again from what is in flight now', async () => {
  await control('GET', 'health');
  await api('GET', '/nothing');
  let st = await control('GET', 'stats');
  assert.ok(st.requests >= 2 && st.connections >= 1);
  assert.equal(st.in_flight, 0);
  assert.ok(st.in_flight_max >= 1);

  await control('POST', 'fail', { path: '/api/v1/exists', mode: 'hold' });
  const one = api('POST', '/exists', { token: PUBLIC, body: { user_identifier: 'x' } });
  await statsUntil((x) => x.held === 1, 'the held request');
  const cleared = await control('DELETE', 'stats');
  assert.equal(cleared.requests, 0);
  assert.equal(cleared.connections, 0);
  assert.equal(cleared.in_flight, 1);
  assert.equal(cleared.in_flight_max, 1, 'the peak is what is in flight now');
  assert.ok(cleared.open >= 1, 'open is a gauge, not zeroed');
  await control('POST', 'release');
  assertOk(await one);
  st = await statsUntil((x) => x.in_flight === 0, 'nothing in flight');
  assert.equal(st.in_flight_max, 1);
  assert.ok(st.requests >= 2, 'the release and the stats calls since');
});

// ---- files on the app's own storage ------------------------------------------------------------

test('files: register, part register (secret, 520/510/511/12), part delete, part list, 512/521', async () => {
  const owner = await registerWithSession('grace');
  const other = await registerWithSession('heidi');
  const input = {
    master_key_id: 'k', encrypted_key: 'ZQ==', encrypted_key_alg: 'AES-GCM-256', belongs_to_id: null,
    belongs_to_type: 'None', encrypted_file_name: null,
  };
  assertApiError(await api('POST', '/file', { token: PUBLIC, body: input }), 401, 31);
  assertApiError(await api('POST', '/file', { token: PUBLIC, jwt: owner.jwt, body: { ...input, belongs_to_type: 'Nope' } }), 422, 11);
  const { file_id: fileId, session_id: session } = assertOk(await api('POST', '/file', { token: PUBLIC, jwt: owner.jwt, body: input }));
  assert.match(fileId, /^[0-9a-f-]{36}$/);
  assert.match(session, /^[0-9a-f-]{36}$/);

  const reg = (seq, end, user = owner.user_id, token = SECRET, s = session) => api('PATCH', `/file/part/${s}/${seq}/${end}/${user}`, { token });
  // the app stores on sentc by default: own-storage calls are refused
  assertApiError(await reg(1, false), 400, 520);
  await control('POST', 'files/options', { file_storage: 1 });
  assertApiError(await reg(1, false, owner.user_id, PUBLIC), 400, 203);
  assertApiError(await api('PATCH', `/file/part/${session}/1/false/${owner.user_id}`, {}), 401, 200);
  assertApiError(await reg('x', false), 400, 12);
  assertApiError(await reg(1, 'maybe'), 400, 12);
  assertApiError(await reg(1, false, other.user_id), 400, 510);
  assertApiError(await reg(1, false, owner.user_id, SECRET, crypto.randomUUID()), 400, 510);
  const p1 = assertOk(await reg(1, false)).part_id;
  const p2 = assertOk(await reg(2, true)).part_id;
  assert.match(p1, /^[0-9a-f-]{36}$/);
  assert.notEqual(p1, p2);
  // the last part ends the session
  assertApiError(await reg(3, true), 400, 510);

  const meta = assertOk(await api('GET', `/file/${fileId}`, { token: PUBLIC, jwt: owner.jwt }));
  assert.deepEqual(meta.part_list, [{ part_id: p1, sequence: 1, extern_storage: true }, { part_id: p2, sequence: 2, extern_storage: true }]);
  assert.deepEqual(Object.keys(meta).sort(), ['belongs_to', 'belongs_to_type', 'encrypted_file_name', 'encrypted_key',
    'encrypted_key_alg', 'file_id', 'master_key_id', 'owner', 'part_list']);

  assertApiError(await api('DELETE', `/file/part/${p2}`, { token: PUBLIC }), 400, 203);
  assert.equal(assertOk(await api('DELETE', `/file/part/${p2}`, { token: SECRET })), 'Success');
  assert.deepEqual(assertOk(await api('GET', `/file/${fileId}`, { token: PUBLIC, jwt: owner.jwt })).part_list.map((p) => p.part_id), [p1]);

  assertApiError(await api('DELETE', `/file/${fileId}`, { token: PUBLIC, jwt: other.jwt }), 400, 521);
  assert.equal(assertOk(await api('DELETE', `/file/${fileId}`, { token: PUBLIC, jwt: owner.jwt })), 'Success');
  assertApiError(await api('GET', `/file/${fileId}`, { token: PUBLIC, jwt: owner.jwt }), 400, 512);

  // a session older than 24 h: 511
  const late = assertOk(await api('POST', '/file', { token: PUBLIC, jwt: owner.jwt, body: input }));
  await control('POST', 'clock', { advance: 24 * 3600 + 1 });
  try {
    const fresh = await control('POST', 'session', { user_id: owner.user_id });
    assertApiError(await reg(1, true, owner.user_id, SECRET, late.session_id), 400, 511);
    assertOk(await api('GET', `/file/${late.file_id}`, { token: PUBLIC, jwt: fresh.jwt }));
  } finally {
    await control('POST', 'clock', { set_offset: 0 });
  }
});

test("files: the file worker POSTs the deleted file's part ids to storage_url with the auth_token", async () => {
  const got = [];
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      got.push({ method: req.method, token: req.headers['x-sentc-app-token'], type: req.headers['content-type'], body });
      res.end('{"status":true,"result":"Success"}');
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${srv.address().port}/delete`;
    const owner = await registerWithSession('ivan');
    await control('POST', 'files/options', { file_storage: 1, storage_url: url, auth_token: 'the-auth-token' });
    const f = assertOk(await api('POST', '/file', { token: PUBLIC, jwt: owner.jwt, body: {
      master_key_id: 'k', encrypted_key: 'ZQ==', encrypted_key_alg: 'a', belongs_to_type: 'None' } }));
    const ids = [];
    for (const seq of [1, 2, 3]) {
      ids.push(assertOk(await api('PATCH', `/file/part/${f.session_id}/${seq}/${seq === 3}/${owner.user_id}`, { token: SECRET })).part_id);
    }
    assertOk(await api('DELETE', `/file/${f.file_id}`, { token: PUBLIC, jwt: owner.jwt }));
    await waitFor(() => got.length === 1, 'the delete callback');
    assert.deepEqual(got[0], { method: 'POST', token: 'the-auth-token', type: 'application/json', body: JSON.stringify(ids) });
    await waitFor(async () => (await control('GET', 'files/callbacks')).callbacks[0].outcome === 'answered', 'its outcome');
    const [cb] = (await control('GET', 'files/callbacks')).callbacks;
    assert.deepEqual([cb.ids, cb.url, cb.status], [ids, url, 200]);

    // without an auth_token: no header
    await control('POST', 'files/options', { auth_token: null });
    const g = assertOk(await api('POST', '/file', { token: PUBLIC, jwt: owner.jwt, body: {
      master_key_id: 'k', encrypted_key: 'ZQ==', encrypted_key_alg: 'a', belongs_to_type: 'None' } }));
    assertOk(await api('PATCH', `/file/part/${g.session_id}/1/true/${owner.user_id}`, { token: SECRET }));
    assertOk(await api('DELETE', `/file/${g.file_id}`, { token: PUBLIC, jwt: owner.jwt }));
    await waitFor(() => got.length === 2, 'the second callback');
    assert.equal(got[1].token, undefined);
  } finally {
    srv.close();
  }
});

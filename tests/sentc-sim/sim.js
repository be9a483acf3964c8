#!/usr/bin/env node
'use strict';
/*
 * sentc-sim: a single-process simulator of the sentc API (one app) for tests and benchmarks.
 *
 *   node tests/sentc-sim/sim.js --config <env-file> --port <port> [--host 127.0.0.1] [--delay-ms N]
 *
 * It follows shared/SENTC_API.md and the public source of the sentc API server: envelopes,
 * error codes and HTTP statuses, app tokens with a token kind per endpoint, ES384 JWTs with a
 * kid. Everything under /api/v1 is the simulated API; everything under /__sim is the control
 * interface tests use (sessions, clock, request log, fault injection, state); see README.md.
 * Built-ins only, all state in memory.
 */

const http = require('node:http');
const crypto = require('node:crypto');
const fs = require('node:fs');

const { rawPointB64 } = require('./keys.js');
const { encryptToPublicKey } = require('./kem.js');

const API_PREFIX = '/api/v1';
const BEARER = 'Bearer ';
const CONTROL_PREFIX = '/__sim/';

const JWT_LIFETIME_S = 300;
const JWT_LEEWAY_S = 60; // the server's JWT library (jsonwebtoken 8) accepts exp + 60 s
const MAX_BODY = 262144; // the server's limit for a JSON body (256 KiB)
const MAX_CONTROL_BODY = 1048576;
const LOG_LIMIT = 10000;
const JWT_CACHE_LIMIT = 10000;
const MAX_BULK_GROUPS = 500000;

// The app options of sentc's dashboard (server_dashboard_common AppOptions): the token each
// endpoint takes, by option key. 'public' is sentc's 1 (the public or the secret token), 'secret'
// its 2 (the secret token only), 'blocked' its 0. The defaults are sentc's; a control call
// changes one, as the dashboard does.
const DEFAULT_APP_OPTIONS = Object.freeze({
  group_create: 'public', group_get: 'public', group_user_keys: 'public',
  group_user_update_check: 'public', group_invite: 'public', group_auto_invite: 'public',
  group_reject_invite: 'public', group_accept_invite: 'public', group_join_req: 'public',
  group_accept_join_req: 'public', group_reject_join_req: 'public', group_key_rotation: 'public',
  group_user_delete: 'public', group_delete: 'public', group_leave: 'public',
  group_change_rank: 'public', group_list: 'public', group_invite_stop: 'public',
  user_exists: 'public', user_register: 'secret', user_delete: 'secret', user_update: 'public',
  user_change_password: 'public', user_reset_password: 'public', user_prepare_login: 'public',
  user_done_login: 'public', user_public_data: 'public', user_jwt_refresh: 'public',
  user_device_register: 'public', user_device_delete: 'public', user_device_list: 'public',
  user_key_update: 'public', user_register_otp: 'public', user_reset_otp: 'public',
  user_disable_otp: 'public', user_get_otp_recovery_keys: 'public',
  key_register: 'public', key_get: 'public',
  file_register: 'public', file_part_upload: 'public', file_get: 'public',
  file_part_download: 'public', file_delete: 'public',
  content: 'public', content_small: 'secret', content_med: 'secret', content_large: 'secret',
  content_x_large: 'secret',
});
const ENDPOINT_KINDS = ['public', 'secret', 'blocked'];
// sentc's ForceServer: the forced routes and GET /user/jwt always need the secret token.
const FORCED = 'forced';

const FAULT_MODES = ['delay', '5xx', 'garbage', 'close', 'truncate', 'chunked', 'vanish', 'hold'];
const MAX_DELAY_MS = 600000;

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// Algorithms the server's JWT library knows; any other name fails header decoding (code 32).
const KNOWN_JWT_ALGS = new Set([
  'HS256', 'HS384', 'HS512', 'ES256', 'ES384', 'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512', 'EdDSA',
]);

// ---------------------------------------------------------------------------------------------
// Errors

class HttpError extends Error {
  /* code is the sentc err_code (null for control-interface errors) */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const apiError = (status, code, message) => new HttpError(status, code, message);
const controlError = (status, message) => new HttpError(status, null, message);

const notFound = () => apiError(404, 404, 'Not found');
const wrongInput = (what) => apiError(422, 11, `Wrong input: ${what}`);
const userNotFound = () => apiError(400, 100, 'User not found');
const wrongLogin = () => apiError(401, 112, 'Wrong username or password');
const noGroupAccess = () => apiError(400, 310, 'No access to this group');
const refreshTokenNotFound = () => apiError(400, 114, 'Refresh token not found');

// ---------------------------------------------------------------------------------------------
// Configuration

/* Parse KEY=VALUE lines: blank lines and # comments skipped, optional `export `, values
 * optionally in single or double quotes. Returns a plain object. */
function parseEnvText(text) {
  const env = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2];
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2];
    env[m[1]] = value;
  }
  return env;
}

/* Decode a dashboard sign key (base64 of PKCS#8 DER, P-384) into a signing key pair.
 * Throws Error with a message that names no key material. */
function loadSignKey(b64) {
  if (typeof b64 !== 'string' || !BASE64.test(b64) || b64 === '') {
    throw new Error('is not standard base64');
  }
  let privateKey;
  try {
    privateKey = crypto.createPrivateKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'pkcs8' });
  } catch {
    throw new Error('is not a PKCS#8 DER private key');
  }
  const details = privateKey.asymmetricKeyDetails || {};
  if (privateKey.asymmetricKeyType !== 'ec' || details.namedCurve !== 'secp384r1') {
    throw new Error('is not a P-384 EC key');
  }
  const publicKey = crypto.createPublicKey(privateKey);
  return { privateKey, publicKey, verifyKeyB64: rawPointB64(publicKey) };
}

/* Read the env file and check the four keys the sim needs. Throws Error naming the bad key. */
function loadConfig(path) {
  let text;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read config file ${path}: ${e.code || e.message}`);
  }
  const env = parseEnvText(text);
  for (const key of ['SENTC_PUBLIC_TOKEN', 'SENTC_SECRET_TOKEN', 'SENTC_JWT_SIGN_KEY', 'SENTC_JWT_KEY_ID']) {
    if (!env[key]) throw new Error(`${key} is missing or empty in ${path}`);
  }
  if (env.SENTC_PUBLIC_TOKEN === env.SENTC_SECRET_TOKEN) {
    throw new Error('SENTC_PUBLIC_TOKEN and SENTC_SECRET_TOKEN must differ');
  }
  let signKey;
  try {
    signKey = loadSignKey(env.SENTC_JWT_SIGN_KEY);
  } catch (e) {
    throw new Error(`SENTC_JWT_SIGN_KEY ${e.message}`);
  }
  return {
    publicToken: env.SENTC_PUBLIC_TOKEN,
    secretToken: env.SENTC_SECRET_TOKEN,
    kid: env.SENTC_JWT_KEY_ID,
    signKey,
  };
}

/* --name value or --name=value; throws Error on anything else. */
function parseArgs(argv) {
  const args = { host: '127.0.0.1', 'delay-ms': '0' };
  const names = new Set(['config', 'port', 'host', 'delay-ms']);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !names.has(m[1])) throw new Error(`unknown argument ${argv[i]}`);
    const value = m[2] !== undefined ? m[2] : argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    args[m[1]] = value;
  }
  if (!args.config) throw new Error('--config is required');
  if (args.port === undefined || !/^\d+$/.test(args.port) || Number(args.port) > 65535) {
    throw new Error('--port must be a number from 0 to 65535');
  }
  args.port = Number(args.port);
  if (!/^\d+$/.test(args['delay-ms']) || Number(args['delay-ms']) > MAX_DELAY_MS) {
    throw new Error(`--delay-ms must be a number from 0 to ${MAX_DELAY_MS}`);
  }
  args.delayMs = Number(args['delay-ms']);
  return args;
}

// ---------------------------------------------------------------------------------------------
// State

let config = null; // set once at start-up
let state = null;
// Transport counters, kept across resets (DELETE /__sim/stats zeroes them): connections accepted,
// open now, requests received; API requests being handled now (delayed and held ones included) and
// the most at once since the start or the last DELETE /__sim/stats.
const stats = { connections: 0, open: 0, requests: 0, in_flight: 0, in_flight_max: 0 };
// The delay of every API answer, in ms (--delay-ms, POST /__sim/delay; a reset goes back to
// --delay-ms): the distance to sentc. Each request waits on a timer of its own.
let startDelayMs = 0;
let delayMs = 0;
// The requests a hold fault keeps: each a function that lets its request go on (true) or drops
// it (false).
let held = [];

function newState() {
  return {
    users: new Map(), // user_id -> {user_id, device_id, device_identifier, group_id}
    // user_id -> what a login needs: the register input's login data and keys, the user group's
    // first key, the device's open challenges and the TOTP second factor (null: off)
    credentials: new Map(),
    identifiers: new Map(), // device identifier -> user_id, or null for a prepared device
    preparedDevices: new Map(), // device_id -> device_identifier (prepare_register_device)
    // group_id -> {group_id, parent_group_id, created_time, is_connected_group, members: Map}; a
    // member is a user or a group (a group as member of a connected group): id -> {rank,
    // joined_time, type: 'user' | 'group'}
    groups: new Map(),
    refreshTokens: new Map(), // token -> {user_id, device_id}
    keys: new Map([[config.kid, config.signKey]]), // kid -> {privateKey, publicKey, verifyKeyB64}
    currentKid: config.kid,
    endpointKinds: { ...DEFAULT_APP_OPTIONS },
    clockOffsetS: 0,
    log: [],
    logSeq: 0,
    faults: [],
    faultsApplied: new Map(), // "mode method route" -> how many requests that fault hit
    jwtCache: new Map(), // jwt -> verified claims (signature checks are the costly part)
    refreshJwts: new Map(), // "user device kid" -> {iat, jwt}: the last JWT a refresh signed
    // Files (server_api_file): file_id -> {file_id, owner, ..., parts: [{part_id, sequence, end,
    // extern_storage}], deleted}; session_id -> {file_id, user_id, created_ms}; the app's file
    // options (the dashboard's: file_storage -1 none, 0 sentc, 1 own; storage_url; auth_token);
    // the delete callbacks sent to storage_url and how each ended.
    files: new Map(),
    fileSessions: new Map(),
    fileOptions: { file_storage: 0, storage_url: null, auth_token: null },
    fileCallbacks: [],
  };
}

const nowMs = () => Date.now() + state.clockOffsetS * 1000;
const nowS = () => Math.floor(nowMs() / 1000);
const randomToken = () => crypto.randomBytes(50).toString('base64url');

function findUserByIdentifier(identifier) {
  const userId = state.identifiers.get(identifier);
  return userId ? state.users.get(userId) : undefined;
}

/* Remove a user and everything hanging off it (memberships, refresh tokens). */
function deleteUser(user) {
  state.users.delete(user.user_id);
  state.identifiers.delete(user.device_identifier);
  state.credentials.delete(user.user_id);
  for (const group of state.groups.values()) group.members.delete(user.user_id);
  revokeSessions(user.user_id);
}

function revokeSessions(userId) {
  for (const [token, session] of state.refreshTokens) {
    if (session.user_id === userId) state.refreshTokens.delete(token);
  }
}

// ---------------------------------------------------------------------------------------------
// JWT

const b64urlJson = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/* Sign an ES384 JWT with the given kid (default: the current key): sentc's header (jsonwebtoken's
 * Header::new(ES384) with the kid) and its claims, exactly those (sentc-common Claims), in their
 * order. Throws HttpError (500/33) if there is no such key, e.g. after all keys were removed. */
function signJwt(userId, deviceId, { fresh, kid = state.currentKid, expInS = JWT_LIFETIME_S, iat = nowS() }) {
  const key = state.keys.get(kid);
  if (!key) throw apiError(500, 33, "Can't create jwt");
  const header = b64urlJson({ typ: 'JWT', alg: 'ES384', kid });
  const claims = b64urlJson({ aud: userId, sub: deviceId, exp: iat + expInS, iat, fresh });
  const signature = crypto.sign('sha384', Buffer.from(`${header}.${claims}`),
    { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${header}.${claims}.${signature.toString('base64url')}`;
}

/* The JWT a refresh hands out: signed anew each second. Within a second, for one user, device
 * and key, the claims are the same, so the JWT already signed is handed out again: signing costs
 * the simulator more than everything else a refresh does, and would make it the benchmark's
 * bottleneck. */
function refreshJwt(userId, deviceId) {
  const slot = `${userId} ${deviceId} ${state.currentKid}`;
  const iat = nowS();
  const last = state.refreshJwts.get(slot);
  if (last && last.iat === iat) return last.jwt;
  const jwt = signJwt(userId, deviceId, { fresh: false, iat });
  if (state.refreshJwts.size >= JWT_CACHE_LIMIT) state.refreshJwts.clear();
  state.refreshJwts.set(slot, { iat, jwt });
  return jwt;
}

function decodeJsonPart(part) {
  if (!BASE64URL.test(part)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

const isUint = (v) => Number.isSafeInteger(v) && v >= 0;

/* Check the JWT's header, key and signature and the claims' types, the way the server's
 * JWT library does. Returns the claims; throws HttpError (401, code 30/32/35). */
function verifyJwtSignature(jwt) {
  const parts = jwt.split('.');
  const header = parts.length === 3 ? decodeJsonPart(parts[0]) : undefined;
  if (!header || !KNOWN_JWT_ALGS.has(header.alg) || typeof header.kid !== 'string') {
    throw apiError(401, 32, "Can't decode the jwt");
  }
  const key = state.keys.get(header.kid);
  // sentc answers an unknown kid with HTTP 200 (its status is not reliable on errors).
  if (!key) throw apiError(200, 35, 'No matched key to this key id');

  const wrongJwt = apiError(401, 30, 'Wrong jwt');
  // The algorithm comes from the key record, never from the token.
  if (header.alg !== 'ES384' || !BASE64URL.test(parts[2])) throw wrongJwt;
  let valid = false;
  try {
    valid = crypto.verify('sha384', Buffer.from(`${parts[0]}.${parts[1]}`), {
      key: key.publicKey, dsaEncoding: 'ieee-p1363',
    }, Buffer.from(parts[2], 'base64url'));
  } catch {
    valid = false;
  }
  const claims = valid ? decodeJsonPart(parts[1]) : undefined;
  if (!claims || typeof claims.aud !== 'string' || typeof claims.sub !== 'string'
      || !isUint(claims.exp) || !isUint(claims.iat) || typeof claims.fresh !== 'boolean') {
    throw wrongJwt;
  }
  return claims;
}

function cachedJwtClaims(jwt) {
  let claims = state.jwtCache.get(jwt);
  if (!claims) {
    claims = verifyJwtSignature(jwt);
    if (state.jwtCache.size >= JWT_CACHE_LIMIT) state.jwtCache.clear();
    state.jwtCache.set(jwt, claims);
  }
  return claims;
}

/* The JWT middleware: Authorization header -> verified claims of an existing user.
 * mode 'valid' checks expiry, 'expired_ok' (refresh) does not. Returns {user, claims}. */
function authenticate(authorization, mode) {
  if (typeof authorization !== 'string' || !authorization.startsWith(BEARER)) {
    throw apiError(401, 31, 'No valid jwt');
  }
  const claims = cachedJwtClaims(authorization.slice(BEARER.length));
  if (mode === 'valid' && claims.exp < nowS() - JWT_LEEWAY_S) {
    throw apiError(401, 30, 'Wrong jwt');
  }
  checkIdFormat(claims.aud);
  checkIdFormat(claims.sub);
  const user = state.users.get(claims.aud);
  if (!user) throw userNotFound();
  return { user, claims };
}

function checkIdFormat(id) {
  if (!UUID_V4.test(id)) {
    throw apiError(400, 1, 'Id has a wrong format. Make sure to follow the uuid v4 format.');
  }
}

// ---------------------------------------------------------------------------------------------
// Input checks (what serde would reject answers 422, code 11)

function requireObject(value, what) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw wrongInput(`${what} must be a JSON object`);
  }
  return value;
}

function requireString(obj, member) {
  if (typeof obj[member] !== 'string') throw wrongInput(`missing string field \`${member}\``);
  return obj[member];
}

function userIdentifierFrom(body) {
  return requireString(requireObject(body, 'body'), 'user_identifier');
}

// ---------------------------------------------------------------------------------------------
// Typed bodies: sentc reads a body into its input struct (serde_json) before anything else the
// handler checks; a member missing or of the wrong type answers 422/11 with serde's words. A
// member a struct does not name is ignored, an Option that is missing or null is None.

const S = 'String';
const OPT = 'Option<String>';

const STRUCTS = {
  MasterKey: [['master_key_alg', S], ['encrypted_master_key', S], ['encrypted_master_key_alg', S]],
  KeyDerivedData: [
    ['derived_alg', S], ['client_random_value', S], ['hashed_authentication_key', S], ['public_key', S],
    ['encrypted_private_key', S], ['keypair_encrypt_alg', S], ['verify_key', S], ['encrypted_sign_key', S],
    ['keypair_sign_alg', S],
  ],
  UserDeviceRegisterInput: [['master_key', 'MasterKey'], ['derived', 'KeyDerivedData'], ['device_identifier', S]],
  // sentc-common group.rs CreateData: the hmac and sortable keys since 2023; the sign fields are
  // the user group's (register checks them, 117).
  CreateData: [
    ['encrypted_group_key', S], ['group_key_alg', S], ['encrypted_group_key_alg', S],
    ['encrypted_private_group_key', S], ['public_group_key', S], ['keypair_encrypt_alg', S],
    ['creator_public_key_id', S], ['encrypted_hmac_key', S], ['encrypted_hmac_alg', S],
    ['encrypted_sortable_key', S], ['encrypted_sortable_alg', S], ['signed_by_user_id', OPT],
    ['signed_by_user_sign_key_id', OPT], ['group_key_sig', OPT], ['encrypted_sign_key', OPT],
    ['verify_key', OPT], ['keypair_sign_alg', OPT], ['public_key_sig', OPT],
  ],
  RegisterData: [['device', 'UserDeviceRegisterInput'], ['group', 'CreateData']],
  PrepareLoginServerInput: [['user_identifier', S]],
  DoneLoginServerInput: [['auth_key', S], ['device_identifier', S]],
  OtpInput: [['token', S], ['auth_key', S], ['device_identifier', S]],
  VerifyLoginInput: [['auth_key', S], ['device_identifier', S], ['challenge', S]],
};

/* serde's words for a JSON value of the wrong type. */
function unexpected(v) {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return `boolean \`${v}\``;
  if (typeof v === 'number') return Number.isInteger(v) ? `integer \`${v}\`` : `floating point \`${v}\``;
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  return Array.isArray(v) ? 'sequence' : 'map';
}

const serdeError = (text) => wrongInput(`Error(${JSON.stringify(text)})`);

/* The value v read as type (S, OPT or a struct's name), in document order as serde reads it.
 * Returns v; throws HttpError 422/11. */
function readAs(v, type) {
  if (type === OPT) return v === null ? v : readAs(v, S);
  if (type === S) {
    if (typeof v !== 'string') throw serdeError(`invalid type: ${unexpected(v)}, expected a string`);
    return v;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw serdeError(`invalid type: ${unexpected(v)}, expected struct ${type}`);
  }
  const fields = new Map(STRUCTS[type]);
  for (const [k, member] of Object.entries(v)) if (fields.has(k)) readAs(member, fields.get(k));
  for (const [k, t] of STRUCTS[type]) {
    if (v[k] === undefined && t !== OPT) throw serdeError(`missing field \`${k}\``);
  }
  return v;
}

const typedBody = (type) => (body) => readAs(body, type);

// ---------------------------------------------------------------------------------------------
// API handlers: each gets {params, body, auth, group, membership} and returns the result value.

/* POST /register (user_service.rs register): the body is RegisterData, read before the token
 * kind is checked. The user group needs its sign keys (117); the device keys and the group's
 * first key are kept as they came, for the login. */
function register({ body }) {
  const { device, group } = body;
  if (group.encrypted_sign_key == null || group.verify_key == null || group.public_key_sig == null
      || group.keypair_sign_alg == null) {
    throw apiError(400, 117, 'User keys not found. Make sure to create the user group.');
  }
  const identifier = device.device_identifier;
  if (state.identifiers.has(identifier)) throw apiError(400, 101, 'User already exists');

  const user = { user_id: crypto.randomUUID(), device_id: crypto.randomUUID(), device_identifier: identifier };
  const groupId = crypto.randomUUID();
  state.users.set(user.user_id, { ...user, group_id: groupId });
  state.identifiers.set(identifier, user.user_id);
  state.credentials.set(user.user_id, {
    derived: device.derived,
    masterKey: device.master_key,
    // The user group's first key, its hmac key (sentc_group_keys, sentc_group_hmac_keys).
    group: { ...group, creator_public_key_id: user.device_id },
    groupKeyId: crypto.randomUUID(),
    hmacKeyId: crypto.randomUUID(),
    time: nowMs(),
    challenges: new Set(),
    otp: null, // {secret, recover: Set of SHA-256 hex of the unused recovery keys}
  });
  return user;
}

// ---------------------------------------------------------------------------------------------
// Login (user_controller.rs prepare_login, done_login, validate_mfa, validate_recovery_otp,
// verify_login; auth/auth_service.rs; sentc-crypto-std-keys pw_hash/argon2.rs)

const ARGON2 = 'ARGON-2-SHA256';
// What prepare_login salts an unknown name with (user_entities.rs SERVER_RANDOM_VALUE), with
// the name added, so that an unknown name gets a salt all the same.
const SERVER_RANDOM_VALUE = 'zx4AKPCMHkeZnh21ciQ62w==';
const TOTP_STEP_S = 30;

/* Standard base64 with padding (base64ct), or null. */
const strictBase64 = (s) => (BASE64.test(s) ? Buffer.from(s, 'base64') : null);

/* argon2.rs generate_salt: SHA-256 of "sentc" and addStr padded with "P" to 200 bytes, then the
 * 16-byte client random value. Throws HttpError 401/110 for a value that is not one. */
function loginSalt(clientRandomValue, alg, addStr) {
  const value = strictBase64(clientRandomValue);
  if (alg !== ARGON2 || !value || value.length !== 16) throw apiError(401, 110, "Can't create salt");
  const text = Buffer.from(`sentc${addStr}`);
  const padded = text.length < 200 ? Buffer.concat([text, Buffer.alloc(200 - text.length, 'P')]) : text;
  return crypto.createHash('sha256').update(padded).update(value).digest().toString('base64');
}

/* POST /prepare_login: the salt the client derives its keys with; no error for unknown names. */
function prepareLogin({ body }) {
  const user = findUserByIdentifier(body.user_identifier);
  const cred = user && state.credentials.get(user.user_id);
  if (cred) {
    return { salt_string: loginSalt(cred.derived.client_random_value, cred.derived.derived_alg, ''),
      derived_encryption_key_alg: cred.derived.derived_alg };
  }
  return { salt_string: loginSalt(SERVER_RANDOM_VALUE, ARGON2, body.user_identifier), derived_encryption_key_alg: ARGON2 };
}

/* auth_user: the name's user and its credentials, once the auth key's SHA-256 matches the hashed
 * key registered (first 16 bytes). Throws HttpError 401/100 (no such user), 401/111 (a key of the
 * wrong format) or 401/112 (wrong password). */
function authUser(identifier, authKey) {
  const user = findUserByIdentifier(identifier);
  const cred = user && state.credentials.get(user.user_id);
  if (!cred) throw apiError(401, 100, 'No user found with this identifier');
  const formatError = () => apiError(401, 111, 'The authentication key has a wrong format');
  const registered = strictBase64(cred.derived.hashed_authentication_key);
  if (!registered) throw formatError();
  const key = strictBase64(authKey);
  if (!key || key.length !== 32 || cred.derived.derived_alg !== ARGON2) throw formatError();
  const hashed = crypto.createHash('sha256').update(key).digest().subarray(0, 16);
  if (registered.length !== 16 || !crypto.timingSafeEqual(hashed, registered)) throw wrongLogin();
  return { user, cred };
}

/* prepare_done_login: the device keys and a new challenge, encrypted to the device's public key.
 * A key the challenge cannot be encrypted to answers 400/201, as sentc does. */
function doneLoginOutput(user, cred) {
  const d = cred.derived;
  const challenge = randomToken();
  let encrypted;
  try {
    encrypted = encryptToPublicKey(d.public_key, d.keypair_encrypt_alg, Buffer.from(challenge));
  } catch {
    throw apiError(400, 201, "Can't create login challenge");
  }
  cred.challenges.add(challenge);
  return {
    device_keys: {
      encrypted_master_key: cred.masterKey.encrypted_master_key,
      encrypted_private_key: d.encrypted_private_key,
      public_key_string: d.public_key,
      keypair_encrypt_alg: d.keypair_encrypt_alg,
      encrypted_sign_key: d.encrypted_sign_key,
      verify_key_string: d.verify_key,
      keypair_sign_alg: d.keypair_sign_alg,
      keypair_encrypt_id: user.device_id,
      keypair_sign_id: user.device_id,
      user_id: user.user_id,
      device_id: user.device_id,
      user_group_id: user.group_id,
    },
    challenge: encrypted.toString('base64'),
  };
}

/* POST /done_login: "Otp" for a user with a second factor, else the keys and the challenge. */
function doneLogin({ body }) {
  const { user, cred } = authUser(body.device_identifier, body.auth_key);
  if (cred.otp) return 'Otp';
  return { Direct: doneLoginOutput(user, cred) };
}

/* RFC 6238 with sentc's parameters (otp.rs: totp_rs, SHA-256, 6 digits, 30 s steps): the code of
 * the step at time t (seconds) for the base32 secret. */
function totp(secret, t) {
  const key = base32Decode(secret);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / TOTP_STEP_S)));
  const mac = crypto.createHmac('sha256', key).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Encode(bytes) {
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(acc << (5 - bits)) & 31];
  return out;
}

function base32Decode(text) {
  const out = [];
  let bits = 0;
  let acc = 0;
  for (const c of text) {
    acc = (acc << 5) | BASE32.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

const sha256Hex = (text) => crypto.createHash('sha256').update(text).digest('hex');

/* POST /validate_mfa: the TOTP of the step now, or of the one before or after (totp_rs's skew 1).
 * No second factor: 400/901; a wrong code: 402/902. */
function validateMfa({ body }) {
  const { user, cred } = authUser(body.device_identifier, body.auth_key);
  if (!cred.otp) throw apiError(400, 901, 'Otp secret not found');
  const now = nowS();
  const ok = [-1, 0, 1].some((step) => {
    const code = Buffer.from(totp(cred.otp.secret, now + step * TOTP_STEP_S));
    const given = Buffer.from(body.token);
    return code.length === given.length && crypto.timingSafeEqual(code, given);
  });
  if (!ok) throw apiError(402, 902, 'Wrong otp.');
  return doneLoginOutput(user, cred);
}

/* POST /validate_recovery_otp: one of the recovery keys, used up by this login. Unknown (or no
 * second factor): 400/901. */
function validateRecoveryOtp({ body }) {
  const { user, cred } = authUser(body.device_identifier, body.auth_key);
  const hash = sha256Hex(body.token);
  if (!cred.otp || !cred.otp.recover.has(hash)) throw apiError(400, 901, 'Recovery token not found');
  const out = doneLoginOutput(user, cred);
  cred.otp.recover.delete(hash);
  return out;
}

/* POST /verify_login: the challenge back, decrypted. Every open challenge of the device goes; a
 * fresh JWT, a new refresh token, the user group's keys (its first page: here the one key) and
 * hmac keys. A challenge not open: 401/112. */
function verifyLogin({ body }) {
  const { user, cred } = authUser(body.device_identifier, body.auth_key);
  if (!cred.challenges.has(body.challenge)) throw wrongLogin();
  cred.challenges.clear();
  const jwt = signJwt(user.user_id, user.device_id, { fresh: true });
  const refreshToken = randomToken();
  state.refreshTokens.set(refreshToken, { user_id: user.user_id, device_id: user.device_id });
  const g = cred.group;
  const groupKey = {
    key_pair_id: cred.groupKeyId,
    group_key_id: cred.groupKeyId,
    encrypted_group_key: g.encrypted_group_key,
    group_key_alg: g.group_key_alg,
    encrypted_private_group_key: g.encrypted_private_group_key,
    public_group_key: g.public_group_key,
    keypair_encrypt_alg: g.keypair_encrypt_alg,
    user_public_key_id: g.creator_public_key_id,
    time: cred.time,
  };
  for (const k of ['signed_by_user_id', 'signed_by_user_sign_key_id', 'group_key_sig']) {
    if (g[k] != null) groupKey[k] = g[k];
  }
  Object.assign(groupKey, {
    encrypted_sign_key: g.encrypted_sign_key,
    verify_key: g.verify_key,
    keypair_sign_alg: g.keypair_sign_alg,
    keypair_sign_id: cred.groupKeyId,
    public_key_sig: g.public_key_sig,
    public_key_sig_key_id: cred.groupKeyId,
  });
  return {
    user_keys: [groupKey],
    hmac_keys: [{
      id: cred.hmacKeyId,
      encrypted_hmac_key: g.encrypted_hmac_key,
      encrypted_hmac_alg: g.encrypted_hmac_alg,
      encrypted_hmac_encryption_key_id: cred.groupKeyId,
      time: cred.time,
    }],
    jwt,
    refresh_token: refreshToken,
  };
}

function exists({ body }) {
  const identifier = userIdentifierFrom(body);
  // The SDK's done_check_user_identifier_available returns `available`.
  return { user_identifier: identifier, available: !state.identifiers.has(identifier) };
}

function prepareRegisterDevice({ body }) {
  const input = requireObject(body, 'body');
  const identifier = requireString(input, 'device_identifier');
  if (state.identifiers.has(identifier)) throw apiError(400, 101, 'Identifier already exists');

  const deviceId = crypto.randomUUID();
  state.identifiers.set(identifier, null);
  state.preparedDevices.set(deviceId, identifier);
  const derived = input.derived !== null && typeof input.derived === 'object' ? input.derived : {};
  return {
    device_id: deviceId,
    token: randomToken(),
    device_identifier: identifier,
    public_key_string: typeof derived.public_key === 'string'
      ? derived.public_key : crypto.randomBytes(32).toString('base64'),
    keypair_encrypt_alg: typeof derived.keypair_encrypt_alg === 'string'
      ? derived.keypair_encrypt_alg : 'ECIES-ed25519',
  };
}

/* A new group with one member: a user (a group of its own), the parent group (a child group,
 * whose members are the parent's) or a group as member (a connected group). */
function newGroup({ memberId, type, parentId = null, connected = false, rank = 0 }) {
  const now = nowMs();
  const group = {
    group_id: crypto.randomUUID(), parent_group_id: parentId, created_time: now,
    is_connected_group: connected, members: new Map(),
  };
  group.members.set(memberId, { rank, joined_time: now, type });
  state.groups.set(group.group_id, group);
  return group;
}

function groupCreate({ body, auth }) {
  requireObject(body, 'body');
  return { group_id: newGroup({ memberId: auth.user.user_id, type: 'user' }).group_id };
}

const wrongRank = () => apiError(400, 301, 'Wrong group rank for this action');

/* POST /group/:group_id/child: the parent's members reach the child through it. */
function groupCreateChild({ body, group, membership }) {
  requireObject(body, 'body');
  if (membership.rank > 1) throw wrongRank();
  return {
    group_id: newGroup({
      memberId: group.group_id, type: 'parent', parentId: group.group_id, connected: group.is_connected_group,
    }).group_id,
  };
}

/* POST /group/:group_id/connected: a connected group with this group as its member. */
function groupCreateConnected({ body, group, membership }) {
  requireObject(body, 'body');
  if (group.is_connected_group) {
    throw apiError(400, 318, "Can't create a connected group from a connected group");
  }
  if (membership.rank > 1) throw wrongRank();
  return { group_id: newGroup({ memberId: group.group_id, type: 'group', connected: true }).group_id };
}

/* A group and its children, recursively; memberships of the deleted groups go too. */
function deleteGroup(groupId) {
  state.groups.delete(groupId);
  for (const g of [...state.groups.values()]) {
    g.members.delete(groupId);
    if (g.parent_group_id === groupId) deleteGroup(g.group_id);
  }
}

function groupDelete({ group, membership }) {
  if (membership.rank > 1) throw wrongRank();
  deleteGroup(group.group_id);
  return 'Success';
}

/* sentc's GroupUserAccessBy, serde's external tagging. */
function accessBy(membership) {
  if (membership.asMember && membership.parent) {
    return { GroupAsUserAsParent: { parent: membership.parent, group_as_user: membership.asMember } };
  }
  if (membership.asMember) return { GroupAsUser: membership.asMember };
  if (membership.parent) return { Parent: membership.parent };
  return 'User';
}

function groupLight({ group, membership }) {
  return {
    group_id: group.group_id,
    parent_group_id: group.parent_group_id,
    rank: membership.rank,
    created_time: group.created_time,
    joined_time: membership.joined_time,
    access_by: accessBy(membership),
    is_connected_group: group.is_connected_group,
  };
}

function forcedGroupMember({ params }) {
  const group = state.groups.get(params.group_id);
  const membership = group && group.members.get(params.user_id);
  if (!membership) throw apiError(400, 300, 'User is not in the group');
  // sentc's user_type: 0 a user, 1 the parent group, 2 a group as member.
  const userType = { user: 0, parent: 1, group: 2 }[membership.type];
  return { user_id: params.user_id, rank: membership.rank, joined_time: membership.joined_time, user_type: userType };
}

function refresh({ body, auth }) {
  const token = requireString(requireObject(body, 'body'), 'refresh_token');
  const session = state.refreshTokens.get(token);
  if (!session || session.device_id !== auth.claims.sub || session.user_id !== auth.claims.aud) {
    throw refreshTokenNotFound();
  }
  return {
    user_id: session.user_id,
    jwt: refreshJwt(session.user_id, session.device_id),
    device_id: session.device_id,
  };
}

/* GET /user/jwt: what a backend asks to have a user's JWT checked by sentc. */
function userJwt({ auth }) {
  return { id: auth.user.user_id, device_id: auth.claims.sub };
}

function userDelete({ auth }) {
  if (!auth.claims.fresh) throw apiError(401, 113, 'The jwt is not valid for this action');
  deleteUser(auth.user);
  return 'Success';
}

function forcedUserByIdentifier(body) {
  const user = findUserByIdentifier(userIdentifierFrom(body));
  if (!user) throw userNotFound();
  return user;
}

function forcedDeleteByIdentifier({ body }) {
  deleteUser(forcedUserByIdentifier(body));
  return 'Success';
}

function forcedDeleteById({ params }) {
  const user = state.users.get(params.user_id);
  if (!user) throw userNotFound();
  deleteUser(user);
  return 'Success';
}

function forcedDisableOtp({ body }) {
  const cred = state.credentials.get(forcedUserByIdentifier(body).user_id);
  if (cred) cred.otp = null; // the secret and the recovery keys go
  return 'Success';
}

function forcedDeleteSessions({ body }) {
  revokeSessions(forcedUserByIdentifier(body).user_id);
  return 'Success';
}

/*
 * The API route table. Per route: which endpoint kind (token) it needs, whether it runs the JWT
 * middleware ('valid' or 'expired_ok'), the group middleware (caller must be a member of
 * :group_id), whether it reads a JSON body and the input struct it reads it as. Checks run in the
 * server's order: app token, JWT, group access, body, token kind, handler. A method not listed
 * for a path is a 404.
 */
const API_ROUTES = compileRoutes([
  {
    method: 'POST', path: '/register', endpoint: 'user_register', body: true, input: typedBody('RegisterData'),
    handler: register,
  },
  {
    method: 'POST', path: '/prepare_login', endpoint: 'user_prepare_login', body: true,
    input: typedBody('PrepareLoginServerInput'), handler: prepareLogin,
  },
  {
    method: 'POST', path: '/done_login', endpoint: 'user_done_login', body: true,
    input: typedBody('DoneLoginServerInput'), handler: doneLogin,
  },
  {
    method: 'POST', path: '/validate_mfa', endpoint: 'user_done_login', body: true, input: typedBody('OtpInput'),
    handler: validateMfa,
  },
  {
    method: 'POST', path: '/validate_recovery_otp', endpoint: 'user_done_login', body: true,
    input: typedBody('OtpInput'), handler: validateRecoveryOtp,
  },
  {
    method: 'POST', path: '/verify_login', endpoint: 'user_done_login', body: true,
    input: typedBody('VerifyLoginInput'), handler: verifyLogin,
  },
  { method: 'POST', path: '/exists', endpoint: 'user_exists', body: true, handler: exists },
  {
    method: 'POST', path: '/user/prepare_register_device', endpoint: 'user_device_register',
    body: true, handler: prepareRegisterDevice,
  },
  { method: 'POST', path: '/group', endpoint: 'group_create', jwt: 'valid', body: true, handler: groupCreate },
  {
    method: 'POST', path: '/group/:group_id/child', endpoint: 'group_create', jwt: 'valid', group: true,
    body: true, handler: groupCreateChild,
  },
  {
    method: 'POST', path: '/group/:group_id/connected', endpoint: 'group_create', jwt: 'valid', group: true,
    body: true, handler: groupCreateConnected,
  },
  {
    method: 'DELETE', path: '/group/:group_id', endpoint: 'group_delete', jwt: 'valid', group: true,
    handler: groupDelete,
  },
  {
    method: 'GET', path: '/group/:group_id/light', endpoint: 'group_get', jwt: 'valid', group: true,
    handler: groupLight,
  },
  { method: 'GET', path: '/group/forced/:group_id/user/:user_id', endpoint: FORCED, handler: forcedGroupMember },
  { method: 'PUT', path: '/refresh', endpoint: 'user_jwt_refresh', jwt: 'expired_ok', body: true, handler: refresh },
  { method: 'GET', path: '/user/jwt', endpoint: FORCED, jwt: 'valid', handler: userJwt },
  { method: 'DELETE', path: '/user', endpoint: 'user_delete', jwt: 'valid', handler: userDelete },
  { method: 'PUT', path: '/user/forced/delete', endpoint: FORCED, body: true, handler: forcedDeleteByIdentifier },
  { method: 'DELETE', path: '/user/forced/delete/:user_id', endpoint: FORCED, handler: forcedDeleteById },
  { method: 'PUT', path: '/user/forced/disable_otp', endpoint: FORCED, body: true, handler: forcedDisableOtp },
  { method: 'DELETE', path: '/user/forced/sessions', endpoint: FORCED, body: true, handler: forcedDeleteSessions },
], API_PREFIX);

// ---- i21: forced group delete and forced kick (sentc's /group/forced routes) ---------------------
// The acting user of a kick must be a user of the app (400/100) and a member of the group (400/310,
// directly or through a parent) with rank <= 2 (301); the kicked one a direct member (300), not the
// creator (315) and not of a stronger rank than the actor (316). (x-sentc-group-access-id is
// recorded in the log but not applied here.)

/* DELETE /group/forced/:group_id: the group, its children and their memberships. */
function forcedGroupDelete({ params }) {
  checkIdFormat(params.group_id);
  if (!state.groups.has(params.group_id)) throw noGroupAccess();
  deleteGroup(params.group_id);
  return 'Success';
}

/* DELETE /group/forced/:user_id/:group_id/kick/:user_to_kick */
function forcedKick({ params }) {
  checkIdFormat(params.user_id);
  checkIdFormat(params.group_id);
  checkIdFormat(params.user_to_kick);
  if (!state.users.has(params.user_id)) throw apiError(400, 100, 'User not found');
  const group = state.groups.get(params.group_id);
  const actor = group && memberOf(group, params.user_id);
  if (!actor) throw noGroupAccess();
  if (actor.rank > 2) throw wrongRank();
  const kicked = group.members.get(params.user_to_kick);
  if (!kicked) throw apiError(400, 300, 'User is not in the group');
  if (kicked.rank === 0) throw apiError(400, 315, 'Can not kick the creator');
  if (kicked.rank < actor.rank) throw apiError(400, 316, 'Can not kick a member of a higher rank');
  group.members.delete(params.user_to_kick);
  return 'Success';
}

const FORCED_GROUP_ROUTES = [
  { method: 'DELETE', path: '/group/forced/:group_id', endpoint: FORCED, handler: forcedGroupDelete },
  {
    method: 'DELETE', path: '/group/forced/:user_id/:group_id/kick/:user_to_kick', endpoint: FORCED,
    handler: forcedKick,
  },
];
API_ROUTES.push(...compileRoutes(FORCED_GROUP_ROUTES, API_PREFIX));
// ---- end i21 ---------------------------------------------------------------------------------------

/* Turn '/a/:name/b' patterns into regexes with named groups. */
function compileRoutes(routes, prefix) {
  return routes.map((route) => {
    const pattern = (prefix + route.path).split('/')
      .map((seg) => (seg.startsWith(':') ? `(?<${seg.slice(1)}>[^/]+)` : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    return { ...route, regex: new RegExp(`^${pattern}$`) };
  });
}

function matchRoute(routes, method, path) {
  for (const route of routes) {
    if (route.method !== method) continue;
    const m = route.regex.exec(path);
    if (m) return { route, params: { ...m.groups } };
  }
  return null;
}

function tokenKindOf(token) {
  if (token === undefined) return 'none';
  if (token === config.publicToken) return 'public';
  if (token === config.secretToken) return 'secret';
  return 'unknown';
}

function checkEndpointKind(endpoint, tokenKind) {
  const needed = endpoint === FORCED ? 'secret' : state.endpointKinds[endpoint];
  if (needed === 'blocked' || (needed === 'secret' && tokenKind !== 'secret')) {
    throw apiError(400, 203, 'No access to this action');
  }
}

/* How memberId (a user or a group) is in group: a direct member, else a direct member of the
 * nearest of its parents. Returns {rank, joined_time, parent} (parent: that parent's id, or
 * null), or null. */
function memberOf(group, memberId) {
  const direct = group.members.get(memberId);
  if (direct) return { rank: direct.rank, joined_time: direct.joined_time, parent: null };
  const seen = new Set([group.group_id]);
  for (let p = state.groups.get(group.parent_group_id); p && !seen.has(p.group_id);
    p = state.groups.get(p.parent_group_id)) {
    seen.add(p.group_id);
    const m = p.members.get(memberId);
    if (m) return { rank: m.rank, joined_time: m.joined_time, parent: p.group_id };
  }
  return null;
}

/*
 * The group middleware (sentc's middleware/group.rs): the caller must be a member of the group in
 * the path, directly or through a parent group. With x-sentc-group-access-id G' (a UUID, else
 * 400/1), the group is reached as a member of G': G' must be a member of the group (directly or
 * through its parents) and the caller a member of G' (likewise); the rank is the weaker of the two.
 */
function groupAccess(groupId, auth, accessId) {
  checkIdFormat(groupId);
  if (accessId !== undefined) checkIdFormat(accessId);
  const group = state.groups.get(groupId);
  if (!group) throw noGroupAccess();
  const userId = auth.user.user_id;
  const inGroup = memberOf(group, accessId !== undefined ? accessId : userId);
  if (!inGroup) throw noGroupAccess();
  if (accessId === undefined) return { group, membership: { ...inGroup, asMember: null } };
  const asMember = state.groups.get(accessId);
  const inAsMember = asMember && memberOf(asMember, userId);
  if (!inAsMember) throw noGroupAccess();
  return {
    group,
    membership: { ...inGroup, rank: Math.max(inGroup.rank, inAsMember.rank), asMember: accessId },
  };
}

function parseJsonBody(body) {
  if (body.tooBig) throw apiError(413, 12, 'Input was too big to handle');
  if (!body.isJson) throw wrongInput('body is not JSON');
  return body.json;
}

/* Run one API request through the middleware chain and its handler. Returns the result value;
 * throws HttpError. */
function runApiRequest(ctx) {
  const match = matchRoute(API_ROUTES, ctx.method, ctx.path);
  if (!match) throw notFound();
  const { route, params } = match;

  if (ctx.tokenKind === 'none' || ctx.tokenKind === 'unknown') {
    throw apiError(401, 200, 'No valid app token');
  }
  const auth = route.jwt ? authenticate(ctx.authorization, route.jwt) : null;
  const access = route.group ? groupAccess(params.group_id, auth, ctx.groupAccessId) : {};
  let body = route.body ? parseJsonBody(ctx.body) : undefined;
  if (route.input) body = route.input(body);
  checkEndpointKind(route.endpoint, ctx.tokenKind);
  return route.handler({ params, body, auth, group: access.group, membership: access.membership });
}

// ---------------------------------------------------------------------------------------------
// Request log and faults

function recordRequest(ctx) {
  const auth = ctx.authorization;
  state.log.push({
    seq: ++state.logSeq,
    method: ctx.method,
    path: ctx.path,
    token: ctx.tokenKind,
    auth: auth === undefined ? null : (auth.startsWith(BEARER) ? auth.slice(BEARER.length) : auth),
    body: ctx.body.isJson ? ctx.body.json : (ctx.body.raw === '' ? null : ctx.body.raw),
    request_id: ctx.requestId === undefined ? null : ctx.requestId,
    group_access_id: ctx.groupAccessId === undefined ? null : ctx.groupAccessId,
    time_ms: Date.now(),
  });
  // Trim in batches so that a push stays cheap.
  if (state.log.length > LOG_LIMIT + 1000) state.log.splice(0, state.log.length - LOG_LIMIT);
}

function faultMatches(fault, method, path) {
  if (fault.method && fault.method !== method) return false;
  return fault.prefix ? path.startsWith(fault.prefix) : path === fault.path;
}

/* The fault (with a concrete mode) to apply to this request, or null. */
function takeFault(method, path) {
  for (let i = 0; i < state.faults.length; i++) {
    const fault = state.faults[i];
    if (!faultMatches(fault, method, path)) continue;
    if (fault.rate !== undefined) {
      if (Math.random() >= fault.rate) continue;
      return { ...fault, mode: fault.modes[Math.floor(Math.random() * fault.modes.length)] };
    }
    if (--fault.count <= 0) state.faults.splice(i, 1);
    return { ...fault, mode: fault.modes[0] };
  }
  return null;
}

/* Counts a fault applied, by mode and route (its pattern, or the path if no route matches). */
function countFault(mode, method, path) {
  const match = matchRoute(API_ROUTES, method, path);
  const key = `${mode} ${method} ${match ? API_PREFIX + match.route.path : path}`;
  state.faultsApplied.set(key, (state.faultsApplied.get(key) || 0) + 1);
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/* Apply a fault. Returns true if the request has been answered (or dropped). */
async function applyFault(fault, req, res) {
  switch (fault.mode) {
    case 'delay':
      await sleep(fault.delay_ms);
      return false;
    case 'hold': // waits for POST /__sim/release, then handled as usual; a reset drops it
      if (await new Promise((resolve) => { held.push(resolve); })) return false;
      req.socket.destroy();
      return true;
    case 'truncate': // handled as usual; the answer is cut short (sendApi)
    case 'chunked': // handled as usual; the answer is sent in chunks (sendApi)
    case 'vanish': // handled as usual; no answer at all (sendApi)
      return false;
    case '5xx':
      sendJson(res, fault.status, { status: false, err_msg: 'internal', err_code: 1 });
      return true;
    case 'garbage':
      send(res, 200, 'text/html', '<html>not json</html>');
      return true;
    default: // close
      req.socket.destroy();
      return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Control interface (/__sim/...): JSON in, {"ok": true, ...} out

function requireControlObject(body) {
  if (body.isJson && body.json !== null && typeof body.json === 'object' && !Array.isArray(body.json)) {
    return body.json;
  }
  if (body.raw === '') return {};
  throw controlError(400, 'body must be a JSON object');
}

function optionalNumber(input, member) {
  const v = input[member];
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) {
    throw controlError(400, `${member} must be a number`);
  }
  return v;
}

function controlString(input, member) {
  if (typeof input[member] !== 'string' || input[member] === '') {
    throw controlError(400, `${member} must be a non-empty string`);
  }
  return input[member];
}

function controlSession(input) {
  const user = input.user_id !== undefined
    ? state.users.get(input.user_id)
    : findUserByIdentifier(controlString(input, 'device_identifier'));
  if (!user) throw controlError(404, 'no such user');
  if (input.fresh !== undefined && typeof input.fresh !== 'boolean') throw controlError(400, 'fresh must be a boolean');
  const kid = input.kid !== undefined ? controlString(input, 'kid') : state.currentKid;
  if (!state.keys.has(kid)) throw controlError(400, kid === null ? 'no signing key left' : `no signing key ${kid}`);
  const expIn = optionalNumber(input, 'exp_in');
  const jwt = signJwt(user.user_id, user.device_id, {
    fresh: input.fresh !== false,
    kid,
    expInS: expIn !== undefined ? Math.trunc(expIn) : JWT_LIFETIME_S,
  });
  const refreshToken = randomToken();
  state.refreshTokens.set(refreshToken, { user_id: user.user_id, device_id: user.device_id });
  return { jwt, refresh_token: refreshToken, user_id: user.user_id, device_id: user.device_id };
}

/* A user turns on the second factor, as PATCH /user/register_otp does (otp.rs register_otp): a
 * TOTP secret (base32 of 32 random bytes) and six recovery keys (the same), each usable once.
 * Answers OtpRegister; again for a user who has one: a new secret and new keys. */
function controlOtp(input) {
  const user = input.user_id !== undefined
    ? state.users.get(input.user_id)
    : findUserByIdentifier(controlString(input, 'device_identifier'));
  const cred = user && state.credentials.get(user.user_id);
  if (!cred) throw controlError(404, 'no such user');
  const secret = base32Encode(crypto.randomBytes(32));
  const recover = Array.from({ length: 6 }, () => base32Encode(crypto.randomBytes(32)));
  cred.otp = { secret, recover: new Set(recover.map(sha256Hex)) };
  return { secret, alg: 'totp_sha256', recover };
}

function controlClock(input) {
  const advance = optionalNumber(input, 'advance');
  const offset = optionalNumber(input, 'set_offset');
  if (advance !== undefined) state.clockOffsetS += advance;
  else if (offset !== undefined) state.clockOffsetS = offset;
  else throw controlError(400, 'give advance or set_offset (seconds)');
  return { offset: state.clockOffsetS };
}

function controlLog() {
  return { requests: state.log.slice(-LOG_LIMIT) };
}

function controlClearLog() {
  state.log = [];
  return {};
}

/* Validate a fault description; see README.md for the members. */
function parseFault(input) {
  const path = controlString(input, 'path');
  const fault = path.endsWith('*') ? { path, prefix: path.slice(0, -1) } : { path };
  if (input.method !== undefined) fault.method = controlString(input, 'method').toUpperCase();

  fault.modes = input.modes !== undefined ? input.modes : [input.mode];
  if (!Array.isArray(fault.modes) || fault.modes.length === 0
      || !fault.modes.every((m) => FAULT_MODES.includes(m))) {
    throw controlError(400, `mode/modes must name ${FAULT_MODES.join(', ')}`);
  }
  const delayMs = optionalNumber(input, 'delay_ms');
  fault.delay_ms = delayMs !== undefined ? Math.max(0, delayMs) : 5000;
  const status = optionalNumber(input, 'status');
  if (status !== undefined && !(Number.isInteger(status) && status >= 500 && status <= 599)) {
    throw controlError(400, 'status must be 500..599');
  }
  fault.status = status !== undefined ? status : 500;

  const rate = optionalNumber(input, 'rate');
  const count = optionalNumber(input, 'count');
  if (rate !== undefined) {
    if (!(rate > 0 && rate <= 1)) throw controlError(400, 'rate must be in (0, 1]');
    fault.rate = rate;
  } else {
    if (count !== undefined && !(Number.isInteger(count) && count > 0)) {
      throw controlError(400, 'count must be a positive integer');
    }
    fault.count = count !== undefined ? count : 1;
  }
  return fault;
}

function controlAddFault(input) {
  state.faults.push(parseFault(input));
  return { faults: state.faults.length };
}

function controlFaults() {
  const applied = [...state.faultsApplied].map(([key, count]) => {
    const [mode, method, path] = key.split(' ');
    return { mode, method, path, count };
  });
  return { faults: state.faults.length, applied };
}

function controlClearFaults() {
  state.faults = [];
  return {};
}

function controlState() {
  return {
    users: [...state.users.values()].map((u) => {
      const cred = state.credentials.get(u.user_id);
      return { ...u, otp: Boolean(cred && cred.otp) };
    }),
    prepared_devices: [...state.preparedDevices]
      .map(([device_id, device_identifier]) => ({ device_id, device_identifier })),
    groups: [...state.groups.values()].map((g) => ({
      group_id: g.group_id,
      parent_group_id: g.parent_group_id,
      is_connected_group: g.is_connected_group,
      members: [...g.members].filter(([, m]) => m.type === 'user').map(([user_id, m]) => ({ user_id, rank: m.rank })),
      group_members: [...g.members].filter(([, m]) => m.type === 'group')
        .map(([group_id, m]) => ({ group_id, rank: m.rank })),
    })),
    refresh_tokens: state.refreshTokens.size,
    current_kid: state.currentKid,
    endpoints: { ...state.endpointKinds },
    clock_offset: state.clockOffsetS,
  };
}

/* A user ({user_id}) or a group ({member_group_id}: a group as member, which makes the group a
 * connected one) as a member of a group, at a rank. */
function controlSetMember(input) {
  const group = state.groups.get(controlString(input, 'group_id'));
  if (!group) throw controlError(404, 'no such group');
  const asGroup = input.member_group_id !== undefined;
  const memberId = controlString(input, asGroup ? 'member_group_id' : 'user_id');
  if (asGroup ? !state.groups.has(memberId) || memberId === group.group_id : !state.users.has(memberId)) {
    throw controlError(404, asGroup ? 'no such group to be a member' : 'no such user');
  }
  const rank = input.rank;
  if (!Number.isInteger(rank) || rank < 0 || rank > 4) throw controlError(400, 'rank must be 0..4');
  const existing = group.members.get(memberId);
  group.members.set(memberId, {
    rank, joined_time: existing ? existing.joined_time : nowMs(), type: asGroup ? 'group' : 'user',
  });
  if (asGroup) group.is_connected_group = true;
  return {};
}

/* Many groups at once, each with the user as its only member (for benchmarks that need a
 * fresh group per request). */
function controlGroups(input) {
  const user = input.user_id !== undefined
    ? state.users.get(input.user_id)
    : findUserByIdentifier(controlString(input, 'device_identifier'));
  if (!user) throw controlError(404, 'no such user');
  const count = input.count;
  if (!Number.isInteger(count) || count < 1 || count > MAX_BULK_GROUPS) {
    throw controlError(400, `count must be 1..${MAX_BULK_GROUPS}`);
  }
  const rank = input.rank !== undefined ? input.rank : 0;
  if (!Number.isInteger(rank) || rank < 0 || rank > 4) throw controlError(400, 'rank must be 0..4');
  const ids = [];
  for (let i = 0; i < count; i++) ids.push(newGroup({ memberId: user.user_id, type: 'user', rank }).group_id);
  return { group_ids: ids };
}

function controlStats() {
  return { ...stats, held: held.length, delay_ms: delayMs };
}

/* Zeroes the counters; the gauges (open, in_flight) stay, the peak starts again from now. */
function controlResetStats() {
  stats.connections = 0;
  stats.requests = 0;
  stats.in_flight_max = stats.in_flight;
  return { ...stats, held: held.length, delay_ms: delayMs };
}

function controlDelay(input) {
  const ms = optionalNumber(input, 'ms');
  if (ms === undefined || !Number.isInteger(ms) || ms < 0 || ms > MAX_DELAY_MS) {
    throw controlError(400, `ms must be a whole number from 0 to ${MAX_DELAY_MS}`);
  }
  delayMs = ms;
  return { delay_ms: delayMs };
}

/* Lets every held request go on (each is handled as usual and answered), or drops them all (their
 * connections close without an answer, and they take no effect). */
function releaseHeld(go = true) {
  const released = held;
  held = [];
  for (const resolve of released) resolve(go);
  return released.length;
}

function controlRemoveMember(input) {
  const group = state.groups.get(controlString(input, 'group_id'));
  if (!group) throw controlError(404, 'no such group');
  const memberId = controlString(input, input.member_group_id !== undefined ? 'member_group_id' : 'user_id');
  return { removed: group.members.delete(memberId) };
}

function controlRevoke(input) {
  return { revoked: state.refreshTokens.delete(controlString(input, 'refresh_token')) };
}

function controlAddKey(input) {
  const kid = controlString(input, 'kid');
  let key;
  try {
    key = loadSignKey(input.sign_key);
  } catch (e) {
    throw controlError(400, `sign_key ${e.message}`);
  }
  state.keys.set(kid, key);
  if (input.current !== false) state.currentKid = kid;
  state.jwtCache.clear();
  state.refreshJwts.clear();
  return { kid, verify_key: key.verifyKeyB64, current_kid: state.currentKid };
}

function controlRemoveKey(input) {
  const kid = controlString(input, 'kid');
  if (!state.keys.delete(kid)) throw controlError(404, 'no such kid');
  if (state.currentKid === kid) {
    const remaining = [...state.keys.keys()];
    state.currentKid = remaining.length > 0 ? remaining[remaining.length - 1] : null;
  }
  state.jwtCache.clear();
  state.refreshJwts.clear();
  return { current_kid: state.currentKid };
}

function controlSetEndpoint(input) {
  const endpoint = controlString(input, 'endpoint');
  if (!(endpoint in DEFAULT_APP_OPTIONS)) {
    throw controlError(400, `endpoint must be an app option: ${Object.keys(DEFAULT_APP_OPTIONS).join(', ')}`);
  }
  const kind = controlString(input, 'kind');
  if (!ENDPOINT_KINDS.includes(kind)) throw controlError(400, `kind must be one of ${ENDPOINT_KINDS.join(', ')}`);
  state.endpointKinds[endpoint] = kind;
  return { endpoint, kind };
}

function controlReset() {
  state = newState();
  delayMs = startDelayMs;
  releaseHeld(false);
  return {};
}

const CONTROL_ROUTES = compileRoutes([
  { method: 'GET', path: 'health', handler: () => ({}) },
  { method: 'POST', path: 'session', handler: controlSession },
  { method: 'POST', path: 'otp', handler: controlOtp },
  { method: 'POST', path: 'clock', handler: controlClock },
  { method: 'GET', path: 'log', handler: controlLog },
  { method: 'DELETE', path: 'log', handler: controlClearLog },
  { method: 'POST', path: 'fail', handler: controlAddFault },
  { method: 'GET', path: 'fail', handler: controlFaults },
  { method: 'DELETE', path: 'fail', handler: controlClearFaults },
  { method: 'GET', path: 'state', handler: controlState },
  { method: 'POST', path: 'group/member', handler: controlSetMember },
  { method: 'POST', path: 'groups', handler: controlGroups },
  { method: 'GET', path: 'stats', handler: controlStats },
  { method: 'DELETE', path: 'stats', handler: controlResetStats },
  { method: 'POST', path: 'delay', handler: controlDelay },
  { method: 'POST', path: 'release', handler: () => ({ released: releaseHeld() }) },
  { method: 'DELETE', path: 'group/member', handler: controlRemoveMember },
  { method: 'POST', path: 'revoke', handler: controlRevoke },
  { method: 'POST', path: 'keys', handler: controlAddKey },
  { method: 'DELETE', path: 'keys', handler: controlRemoveKey },
  { method: 'POST', path: 'endpoint', handler: controlSetEndpoint },
  { method: 'POST', path: 'reset', handler: controlReset },
  { method: 'POST', path: 'drop', handler: () => { server.closeIdleConnections(); return {}; } },
], CONTROL_PREFIX);

// ---- i21: files on the app's own storage (sentc's server_api_file) ------------------------------
// POST /file registers a file and opens an upload session (24 h); with own storage the customer's
// backend registers each part it stored (PATCH /file/part/:session/:seq/:end/:user_id, secret
// token: ForceServer) and may drop one again (DELETE /file/part/:part_id, secret). GET /file/:id
// gives the file with its part list; DELETE /file/:id marks it deleted, and sentc's file worker
// then POSTs the ids of its parts on own storage to the app's storage_url as a JSON array, with
// x-sentc-app-token: <auth_token> if one is set, a 10 s timeout, and does not wait for the
// answer (file_worker.rs). Here the worker runs at once after the delete; each callback's
// outcome is kept for the tests (GET /__sim/files/callbacks).

const FILE_SESSION_ALIVE_MS = 24 * 60 * 60 * 1000;
const FILE_STORAGE_OWN = 1;
const FILE_PART_LIST_MAX = 500;
const BELONGS_TO = ['Group', 'User', 'None'];

const fileError = (code, message) => apiError(400, code, message);
const uploadNotAllowed = () => fileError(520, 'File upload is not allowed');

function fileRegister({ body, auth }) {
  requireObject(body, 'FileRegisterInput');
  for (const m of ['encrypted_key', 'encrypted_key_alg', 'master_key_id']) requireString(body, m);
  if (!BELONGS_TO.includes(body.belongs_to_type)) throw wrongInput('belongs_to_type');
  for (const m of ['belongs_to_id', 'encrypted_file_name']) {
    if (body[m] !== undefined && body[m] !== null && typeof body[m] !== 'string') throw wrongInput(m);
  }
  const file = {
    file_id: crypto.randomUUID(),
    owner: auth.user.user_id,
    belongs_to: body.belongs_to_type === 'None' ? null : (body.belongs_to_id ?? null),
    belongs_to_type: body.belongs_to_id ? body.belongs_to_type : 'None',
    master_key_id: body.master_key_id,
    encrypted_key: body.encrypted_key,
    encrypted_key_alg: body.encrypted_key_alg,
    encrypted_file_name: body.encrypted_file_name ?? null,
    parts: [],
    deleted: false,
  };
  const sessionId = crypto.randomUUID();
  state.files.set(file.file_id, file);
  state.fileSessions.set(sessionId, { file_id: file.file_id, user_id: auth.user.user_id, created_ms: nowMs() });
  return { file_id: file.file_id, session_id: sessionId };
}

function filePartRegister({ params }) {
  if (state.fileOptions.file_storage !== FILE_STORAGE_OWN) throw uploadNotAllowed();
  if (!/^-?[0-9]+$/.test(params.seq) || Math.abs(Number(params.seq)) > 2147483647) {
    throw fileError(12, 'Parameter sequence has a wrong format');
  }
  if (params.end !== 'true' && params.end !== 'false') throw fileError(12, 'Parameter end has a wrong format');
  const session = state.fileSessions.get(params.session_id);
  if (!session || session.user_id !== params.user_id) throw fileError(510, 'File upload session not found');
  if (session.created_ms + FILE_SESSION_ALIVE_MS < nowMs()) {
    state.fileSessions.delete(params.session_id);
    throw fileError(511, 'File upload session expired');
  }
  const file = state.files.get(session.file_id);
  const part = { part_id: crypto.randomUUID(), sequence: Number(params.seq), end: params.end === 'true', extern_storage: true };
  file.parts.push(part);
  if (part.end) state.fileSessions.delete(params.session_id);
  return { part_id: part.part_id };
}

function filePartDelete({ params }) {
  if (state.fileOptions.file_storage !== FILE_STORAGE_OWN) throw uploadNotAllowed();
  for (const file of state.files.values()) file.parts = file.parts.filter((p) => p.part_id !== params.part_id);
  return 'Success';
}

function liveFile(fileId) {
  const file = state.files.get(fileId);
  if (!file || file.deleted) throw fileError(512, 'File not found');
  return file;
}

function fileGet({ params }) {
  const file = liveFile(params.file_id);
  const part_list = [...file.parts].sort((a, b) => a.sequence - b.sequence).slice(0, FILE_PART_LIST_MAX)
    .map((p) => ({ part_id: p.part_id, sequence: p.sequence, extern_storage: p.extern_storage }));
  return {
    file_id: file.file_id, master_key_id: file.master_key_id, owner: file.owner, belongs_to: file.belongs_to,
    belongs_to_type: file.belongs_to_type, encrypted_key: file.encrypted_key,
    encrypted_key_alg: file.encrypted_key_alg, encrypted_file_name: file.encrypted_file_name, part_list,
  };
}

/* The file worker's POST to storage_url; never awaited by the API request. */
function sendDeleteCallback(ids) {
  const { storage_url: url, auth_token: token } = state.fileOptions;
  const record = { ids, url, outcome: 'pending', status: null, body: null };
  state.fileCallbacks.push(record);
  const headers = { 'content-type': 'application/json' };
  if (token) headers['x-sentc-app-token'] = token;
  fetch(url, { method: 'POST', headers, body: JSON.stringify(ids), signal: AbortSignal.timeout(10000) })
    .then(async (r) => { record.status = r.status; record.body = await r.text(); record.outcome = 'answered'; })
    .catch((e) => { record.outcome = `failed: ${e.message}`; });
}

function fileDelete({ params, auth }) {
  const file = liveFile(params.file_id);
  if (file.owner !== auth.user.user_id) throw fileError(521, 'No access to this file');
  file.deleted = true;
  const ids = file.parts.filter((p) => p.extern_storage).map((p) => p.part_id);
  if (ids.length > 0 && state.fileOptions.storage_url) {
    for (let i = 0; i < ids.length; i += FILE_PART_LIST_MAX) sendDeleteCallback(ids.slice(i, i + FILE_PART_LIST_MAX));
  }
  return 'Success';
}

API_ROUTES.push(...compileRoutes([
  { method: 'POST', path: '/file', endpoint: 'file_register', jwt: 'valid', body: true, handler: fileRegister },
  { method: 'GET', path: '/file/:file_id', endpoint: 'file_get', jwt: 'valid', handler: fileGet },
  { method: 'DELETE', path: '/file/:file_id', endpoint: 'file_delete', jwt: 'valid', handler: fileDelete },
  { method: 'PATCH', path: '/file/part/:session_id/:seq/:end/:user_id', endpoint: FORCED, handler: filePartRegister },
  { method: 'DELETE', path: '/file/part/:part_id', endpoint: FORCED, handler: filePartDelete },
], API_PREFIX));

/* POST /__sim/files/options {file_storage?, storage_url?, auth_token?}: the dashboard's file options. */
function controlFileOptions(input) {
  const o = { ...state.fileOptions };
  if (input.file_storage !== undefined) {
    if (![-1, 0, 1].includes(input.file_storage)) throw controlError(400, 'file_storage must be -1, 0 or 1');
    o.file_storage = input.file_storage;
  }
  for (const m of ['storage_url', 'auth_token']) {
    if (input[m] === undefined) continue;
    if (input[m] !== null && typeof input[m] !== 'string') throw controlError(400, `${m} must be a string or null`);
    o[m] = input[m];
  }
  state.fileOptions = o;
  return { options: o };
}

/* GET /__sim/files: every file with its parts; GET /__sim/files/callbacks: the delete callbacks. */
function controlFiles() {
  return { files: [...state.files.values()] };
}

CONTROL_ROUTES.push(...compileRoutes([
  { method: 'POST', path: 'files/options', handler: controlFileOptions },
  { method: 'GET', path: 'files', handler: controlFiles },
  { method: 'GET', path: 'files/callbacks', handler: () => ({ callbacks: state.fileCallbacks }) },
], CONTROL_PREFIX));
// ---- end i21 files -----------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// HTTP

function send(res, status, contentType, text) {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const sendJson = (res, status, value) => send(res, status, 'application/json', JSON.stringify(value));

function sendApiError(res, err) {
  if (!(err instanceof HttpError)) {
    process.stderr.write(`sentc-sim: internal error: ${err && err.stack ? err.stack : err}\n`);
    err = apiError(500, 1, 'internal');
  }
  sendJson(res, err.status, { status: false, err_msg: err.message, err_code: err.code });
}

/* Read the whole body (so keep-alive keeps working) but keep at most `limit` bytes. */
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => {
      const tooBig = size > limit;
      const raw = tooBig ? '' : Buffer.concat(chunks).toString('utf8');
      let json;
      let isJson = false;
      if (raw !== '') {
        try {
          json = JSON.parse(raw);
          isJson = true;
        } catch {
          isJson = false;
        }
      }
      resolve({ raw, json, isJson, tooBig });
    });
    req.on('error', reject);
  });
}

/* An API request, counted in flight from its arrival until it is answered or dropped. */
async function handleApi(req, res, path) {
  stats.in_flight++;
  if (stats.in_flight > stats.in_flight_max) stats.in_flight_max = stats.in_flight;
  try {
    await handleApiInFlight(req, res, path);
  } finally {
    stats.in_flight--;
  }
}

async function handleApiInFlight(req, res, path) {
  const delay = delayMs;
  const body = await readBody(req, MAX_BODY);
  const token = req.headers['x-sentc-app-token'];
  const ctx = {
    method: req.method,
    path,
    body,
    tokenKind: tokenKindOf(token),
    authorization: req.headers.authorization,
    requestId: req.headers['x-request-id'],
    groupAccessId: req.headers['x-sentc-group-access-id'],
  };
  recordRequest(ctx);
  // The record gets the answer, once there is one (a fault that answers itself leaves it null).
  const record = state.log[state.log.length - 1];
  record.status = null;
  record.response = null;
  // The distance to sentc: the request is handled (and answered) once it has passed.
  if (delay > 0) await sleep(delay);

  const fault = takeFault(ctx.method, path);
  if (fault) countFault(fault.mode, ctx.method, path);
  if (fault && await applyFault(fault, req, res)) return;
  const cut = fault !== null && fault.mode === 'truncate';
  const chunked = fault !== null && fault.mode === 'chunked';

  let status = 200;
  let value;
  try {
    value = { status: true, result: runApiRequest(ctx) };
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    status = err.status;
    value = { status: false, err_msg: err.message, err_code: err.code };
  }
  // vanish: the request took effect; the connection closes before a byte of the answer.
  if (fault !== null && fault.mode === 'vanish') {
    req.socket.destroy();
    return;
  }
  record.status = status;
  record.response = JSON.stringify(value);
  if (cut) sendTruncated(res, status, value);
  else if (chunked) sendChunked(res, status, value);
  else sendJson(res, status, value);
}

/* The answer with Transfer-Encoding: chunked, in three writes (so three chunks). */
function sendChunked(res, status, value) {
  const text = JSON.stringify(value);
  const third = Math.ceil(text.length / 3);
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.write(text.slice(0, third));
  res.write(text.slice(third, 2 * third));
  res.end(text.slice(2 * third));
}

/* The status, the headers and half the body of an answer, then the connection closes: the
 * request was handled, its answer is lost on the way. */
function sendTruncated(res, status, value) {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.write(text.slice(0, Math.floor(text.length / 2)), () => res.socket.destroy());
}

async function handleControl(req, res, path) {
  const body = await readBody(req, MAX_CONTROL_BODY);
  try {
    const match = matchRoute(CONTROL_ROUTES, req.method, path);
    if (!match) throw controlError(404, 'unknown control route');
    const input = req.method === 'GET' ? {} : requireControlObject(body);
    sendJson(res, 200, { ok: true, ...match.route.handler(input) });
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    sendJson(res, err.status, { ok: false, error: err.message });
  }
}

async function onRequest(req, res) {
  stats.requests++;
  const path = req.url.split('?', 1)[0];
  try {
    if (path.startsWith(CONTROL_PREFIX)) {
      await handleControl(req, res, path);
    } else {
      // Everything else is the API: unknown paths are recorded and answered 404 like it.
      await handleApi(req, res, path);
    }
  } catch (err) {
    if (!res.headersSent && !res.destroyed) sendApiError(res, err);
  }
}

let server;

function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
    config = loadConfig(args.config);
  } catch (e) {
    process.stderr.write(`sentc-sim: ${e.message}\n`);
    process.stderr.write('usage: node sim.js --config <env-file> --port <port> [--host 127.0.0.1] [--delay-ms N]\n');
    process.exit(2);
  }
  startDelayMs = args.delayMs;
  delayMs = startDelayMs;
  state = newState();

  server = http.createServer(onRequest);
  server.keepAliveTimeout = 65000;
  server.headersTimeout = 66000;
  server.on('clientError', (err, socket) => socket.destroy());
  server.on('connection', (socket) => {
    stats.connections++;
    stats.open++;
    socket.on('close', () => { stats.open--; });
  });
  server.on('error', (err) => {
    process.stderr.write(`sentc-sim: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(args.port, args.host, () => {
    const { address, port } = server.address();
    const host = address.includes(':') ? `[${address}]` : address;
    process.stdout.write(`sentc-sim listening on ${host}:${port}\n`);
  });

  const stop = () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();

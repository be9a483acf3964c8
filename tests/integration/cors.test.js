'use strict';
/*
 * CORS through nginx: every browser-facing route answers a preflight from
 * an origin in SENTC_BACKEND_ALLOWED_ORIGINS with that exact origin,
 * credentials, Vary: Origin, its methods and the headers the SDK sends;
 * its real answers carry the same. Other origins get nothing, and a
 * preflight for one of sentc's own methods on a swapped-in path still
 * reaches sentc.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { start, registerInput } = require('./harness');

const APP = 'https://app.example.com';
const DEV = 'http://localhost:3000';
const ID = crypto.randomUUID();
const ID2 = crypto.randomUUID();

// Every browser-facing route: a path, a method the browser asks for, and
// the methods the route's program serves there (HEAD wherever GET).
const ROUTES = [
  ['/api/v1/register', 'POST', 'POST'],
  ['/api/v1/user/prepare_register_device', 'POST', 'POST'],
  ['/api/v1/group', 'POST', 'POST'],
  [`/api/v1/group/${ID}`, 'DELETE', 'DELETE'],
  [`/api/v1/group/${ID}/light`, 'GET', 'GET, HEAD'],
  ['/api/v1/user', 'DELETE', 'DELETE'],
  ['/backend/me', 'PUT', 'GET, HEAD, PUT'],
  [`/backend/groups/${ID}/items`, 'GET', 'GET, HEAD'],
  [`/backend/groups/${ID}/items/${ID2}`, 'PUT', 'GET, HEAD, PUT, DELETE'],
  [`/backend/groups/${ID}/data`, 'PUT', 'GET, HEAD, PUT'],
  ['/backend/health', 'GET', 'GET, HEAD'],
  ['/backend/session', 'POST', 'POST'],
  ['/backend/refresh', 'GET', 'GET, HEAD, POST'],
  ['/backend/logout', 'POST', 'POST'],
];

const SDK_HEADERS = 'authorization,content-type,x-sentc-app-token,x-sentc-group-access-id';

function noWildcard(r) {
  for (const [k, v] of r.headers) {
    if (k.startsWith('access-control-')) assert.ok(!v.includes('*'), `${k}: ${v}`);
  }
}

describe('CORS', () => {
  let s;
  before(async () => {
    s = await start({ SENTC_BACKEND_ALLOWED_ORIGINS: `${APP}, ${DEV}` });
  });
  after(() => s.stop());

  function preflight(urlPath, origin, method, headers = SDK_HEADERS) {
    const h = { 'access-control-request-method': method, 'access-control-request-headers': headers };
    if (origin !== undefined) h.origin = origin;
    return s.api('OPTIONS', urlPath, { headers: h });
  }

  for (const [urlPath, method, methods] of ROUTES) {
    it(`answers a preflight for ${method} ${urlPath.replace(/[0-9a-f-]{36}/g, '{id}')} from an allowed origin`, async () => {
      await s.clearLog();
      for (const origin of [APP, DEV]) {
        const r = await preflight(urlPath, origin, method);
        assert.equal(r.status, 204, `${origin}: ${r.text}`);
        assert.equal(r.headers.get('access-control-allow-origin'), origin);
        assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
        assert.match(r.headers.get('vary'), /(^|, *)Origin(,|$)/);
        assert.equal(r.headers.get('access-control-allow-methods'), methods);
        const allowed = r.headers.get('access-control-allow-headers').toLowerCase().split(/, */);
        for (const h of SDK_HEADERS.split(',')) assert.ok(allowed.includes(h), h);
        assert.ok(Number(r.headers.get('access-control-max-age')) > 0);
        noWildcard(r);
      }
      assert.deepEqual(await s.upstream(), [], 'the backend answered, not sentc');
    });
  }

  it('gives an origin that is not listed no CORS header on any route', async () => {
    for (const [urlPath, method] of ROUTES) {
      for (const origin of ['https://evil.example', 'https://app.example.com.evil.example', `${APP}/`, 'null', 'http://localhost:3001']) {
        const r = await preflight(urlPath, origin, method);
        assert.equal(r.status, 403, `${origin} ${urlPath}: ${r.text}`);
        assert.equal(r.json.err_code, 20030);
        assert.equal(r.headers.get('access-control-allow-origin'), null);
        assert.equal(r.headers.get('access-control-allow-credentials'), null);
        assert.equal(r.headers.get('access-control-allow-methods'), null);
      }
    }
  });

  it('answers OPTIONS without an Origin (not a preflight) with the methods in Allow', async () => {
    const r = await s.api('OPTIONS', '/backend/me');
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('allow'), 'GET, HEAD, PUT');
    assert.equal(r.headers.get('access-control-allow-origin'), null);
  });

  it('puts the same CORS headers on real answers, errors included', async () => {
    const u = await s.user('cors', { a: 1 });
    const checks = [
      [await s.api('GET', '/backend/health', { headers: { origin: APP } }), 200],
      [await s.api('GET', '/backend/me', { headers: { origin: DEV, ...u.auth } }), 200],
      [await s.api('GET', '/backend/me', { headers: { origin: APP } }), 401],
      [await s.api('POST', '/api/v1/register', { headers: { origin: APP }, body: registerInput(`cors-${process.pid}`) }), 200],
      [await s.api('POST', '/api/v1/group', { headers: { origin: APP, ...u.auth }, body: { keys: 'x' } }), 200],
      [await s.api('PATCH', '/backend/me', { headers: { origin: APP } }), 405],
    ];
    for (const [r, status] of checks) {
      assert.equal(r.status, status, r.text);
      const origin = r.headers.get('access-control-allow-origin');
      assert.ok(origin === APP || origin === DEV, `allow-origin ${origin}`);
      assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
      assert.match(r.headers.get('vary'), /Origin/);
      noWildcard(r);
    }
    // Answers to a listed origin are its own; an unlisted one gets none (the browser then hides the answer).
    const me = await s.api('GET', '/backend/me', { headers: { origin: 'https://evil.example', ...u.auth } });
    assert.equal(me.status, 200, 'a route that is not a cookie route still answers');
    assert.equal(me.headers.get('access-control-allow-origin'), null);
    assert.equal(me.headers.get('access-control-allow-credentials'), null);
    assert.match(me.headers.get('vary'), /Origin/);
  });

  it("passes a preflight for one of sentc's own methods on a swapped-in path through to sentc", async () => {
    for (const [urlPath, method] of [['/api/v1/user', 'PUT'], [`/api/v1/group/${ID}`, 'GET'], ['/api/v1/group', 'GET'], ['/api/v1/exists', 'POST']]) {
      await s.clearLog();
      const r = await preflight(urlPath, APP, method);
      const up = await s.upstream();
      assert.equal(up.length, 1, `${method} ${urlPath} reached sentc`);
      assert.equal(up[0].method, 'OPTIONS');
      assert.equal(up[0].path, urlPath);
      assert.notEqual(r.headers.get('access-control-allow-methods'), method, 'not answered by the backend');
    }
  });

  it('gives the admin routes no CORS: no browser may call them', async () => {
    for (const [urlPath, method] of [['/api/v1/user/forced/disable_otp', 'PUT'], ['/api/v1/user/forced/sessions', 'DELETE'],
      [`/api/v1/group/forced/${ID}/user/${ID2}`, 'GET']]) {
      const r = await preflight(urlPath, APP, method);
      assert.equal(r.status, 405, `${urlPath}: ${r.text}`);
      for (const [k] of r.headers) assert.ok(!k.startsWith('access-control-'), `${urlPath}: ${k}`);
    }
  });
});

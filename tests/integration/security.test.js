'use strict';
/*
 * Security through nginx: no secret in any answer or log line, no CR or
 * LF into a header or an upstream URL, no encoded traversal in ids, a
 * defined answer for odd, oversized and repeated headers, JWT times at
 * the ends of 64 bits, and slow requests cut off.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { start, claims, registerInput, TOP, SLOW, WAIT_MS } = require('./harness');

const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e';
let seq = 0;
const uniq = (p) => `${p}-${process.pid}-${++seq}`;

/* An error envelope with this status and code. */
function envelope(r, status, code, what = '') {
  assert.equal(r.status, status, `${what}: ${r.text ?? r.body}`);
  assert.equal(r.json?.status, false, `${what}: ${r.text ?? r.body}`);
  assert.equal(r.json.err_code, code, `${what}: ${r.text ?? r.body}`);
  assert.equal(typeof r.json.err_msg, 'string');
}

describe('secrets', () => {
  let s;
  const seen = [];	// every answer: status line, headers and body
  const refreshTokens = [];
  before(async () => { s = await start({ SENTC_BACKEND_UPSTREAM_TIMEOUT_MS: '500' }); });
  after(() => s.stop());

  /* A request whose whole answer is kept for the check below. */
  async function call(method, urlPath, opts = {}) {
    const r = await s.api(method, urlPath, opts);
    seen.push(`${r.status} ${JSON.stringify([...r.headers])} ${r.text}`);
    return r;
  }

  it('a tour of every route, good and bad, with upstream faults', async () => {
    const u = await s.user('tour', { display_name: 'Tour' });
    const sess = await s.session(u.id);
    refreshTokens.push(sess.refresh_token, (await s.session(u.id)).refresh_token);
    const gid = await s.group(u, { t: 1 });
    const auth = u.auth;
    const routes = [
      ['POST', '/api/v1/register', { body: registerInput(uniq('t')) }],
      ['POST', '/api/v1/user/prepare_register_device', { body: { device_identifier: uniq('d'), refresh_token: sess.refresh_token } }],
      ['POST', '/api/v1/group', { body: { group_data: { a: 1 } }, headers: auth }],
      ['GET', `/api/v1/group/${gid}/light`, { headers: auth }],
      ['PUT', `/backend/groups/${gid}/items/${UUID}`, { body: { data: 'c' }, headers: auth }],
      ['GET', `/backend/groups/${gid}/items/${UUID}`, { headers: auth }],
      ['GET', `/backend/groups/${gid}/items?limit=5`, { headers: auth }],
      ['GET', '/backend/me', { headers: auth }],
      ['PUT', '/backend/me', { body: { display_name: 'Tour 2' }, headers: auth }],
      ['GET', '/backend/health', {}],
      ['PUT', `/backend/groups/${gid}/data`, { body: { t: 2 }, headers: auth }],
      ['POST', '/backend/session', { body: { refresh_token: sess.refresh_token }, headers: { authorization: `Bearer ${sess.jwt}` } }],
      ['PUT', '/api/v1/user/forced/disable_otp', { body: { user_identifier: u.name }, headers: { authorization: `Bearer ${s.config.SENTC_BACKEND_ADMIN_TOKEN}` } }],
      ['DELETE', `/api/v1/group/${gid}`, { headers: auth }],
    ];
    for (const [method, p, opts] of routes) {
      const r = await call(method, p, opts);
      assert.ok(r.status < 500, `${method} ${p}: ${r.text}`);
      const cookie = r.headers.getSetCookie().find((c) => c.startsWith(`${s.config.SENTC_BACKEND_COOKIE_NAME || 'sentc_refresh'}=`));
      if (cookie) {
        const jar = cookie.split(';')[0];
        const rr = await call('GET', '/backend/refresh', { headers: { authorization: `Bearer ${sess.jwt}`, cookie: jar } });
        assert.equal(rr.status, 200, rr.text);
        await call('POST', '/backend/logout', { headers: { cookie: jar } });
      }
    }
    assert.ok(seen.some((t) => t.startsWith('200') && t.includes('set-cookie')), 'a session cookie was set');
    // A refresh token where a client might wrongly send one.
    for (const headers of [
      { authorization: `Bearer ${sess.refresh_token}` },
      { authorization: sess.refresh_token },
      { cookie: `refresh=${sess.refresh_token}` },
    ]) await call('GET', '/backend/me', { headers });
    await call('GET', `/backend/groups/${UUID}/items?after=${sess.refresh_token}`, { headers: auth });
    // Bad input, every route.
    for (const [method, p] of routes) {
      await call(method, p, {
        body: method === 'GET' || method === 'DELETE' ? undefined : '{"oops": ',
        headers: { authorization: 'Bearer x.y.z' },
      });
    }
    // Upstream faults: 5xx, garbage, a cut answer, a timeout.
    for (const mode of ['5xx', 'garbage', 'truncate', 'delay']) {
      await s.sim('POST', 'fail', { path: '/api/*', mode, count: 100, delay_ms: 1500 });
      for (const [method, p, opts] of routes.slice(0, 4)) await call(method, p, opts);
      await s.sim('DELETE', 'fail');
    }
    // The account goes last.
    await call('DELETE', '/api/v1/user', { headers: auth });
    assert.ok(seen.length > 40);
  });

  it('no answer and no log line holds the secret token, the sign key, the admin token, the cookie key or a refresh token', () => {
    const cookieKey = Buffer.from(s.config.SENTC_BACKEND_COOKIE_KEY, 'base64');
    const secrets = {
      SENTC_SECRET_TOKEN: s.config.SENTC_SECRET_TOKEN,
      SENTC_JWT_SIGN_KEY: s.config.SENTC_JWT_SIGN_KEY,
      SENTC_BACKEND_ADMIN_TOKEN: s.config.SENTC_BACKEND_ADMIN_TOKEN,
      SENTC_BACKEND_COOKIE_KEY: s.config.SENTC_BACKEND_COOKIE_KEY,
      'the cookie key, base64url': cookieKey.toString('base64url'),
      'the cookie key, hex': cookieKey.toString('hex'),
    };
    assert.equal(cookieKey.length, 32);
    refreshTokens.forEach((t, i) => { secrets[`refresh token ${i}`] = t; });
    const logs = { 'backend.log': s.log(), 'nginx-error.log': s.nginxLog() };
    assert.ok(s.logRecords().some((r) => r.msg === 'request'), 'the programs logged');
    for (const [name, secret] of Object.entries(secrets)) {
      assert.ok(secret && secret.length >= 16, name);
      for (const [i, text] of seen.entries()) assert.ok(!text.includes(secret), `${name} in answer ${i}`);
      for (const [file, text] of Object.entries(logs)) assert.ok(!text.includes(secret), `${name} in ${file}`);
    }
  });
});

describe('requests', () => {
  let s;
  let u;
  let gid;
  before(async () => {
    s = await start();
    u = await s.user('req', { v: 1 });
    gid = await s.group(u);
  });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  /* What reached the simulator: no CR, LF or control character anywhere. */
  async function upstreamClean() {
    for (const r of await s.upstream()) {
      assert.doesNotMatch(r.path, /[\x00-\x1f\x7f]|%0[ad]/i, r.path);
      if (r.auth !== null) assert.doesNotMatch(r.auth, /[\x00-\x1f\x7f]/, r.auth);
    }
  }

  describe('CR, LF and control characters never reach a header or an upstream URL', () => {
    const jwt = () => u.jwt;
    const cases = [
      ['%0d%0a in a group id', () => `GET /api/v1/group/${UUID}%0d%0aX-Injected:%20yes/light HTTP/1.1\r\nAuthorization: Bearer ${jwt()}\r\n`, 400, 20004],
      ['%0a in an item id', () => `PUT /backend/groups/${gid}/items/%0aX-Injected:%20yes HTTP/1.1\r\nAuthorization: Bearer ${jwt()}\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"data":"x"}`, 400, 20004],
      ['%0D%0A in a query parameter', () => `GET /backend/groups/${gid}/items?after=%0D%0AX-Injected:%20yes HTTP/1.1\r\nAuthorization: Bearer ${jwt()}\r\n`, 400, 20028],
      ['%00 in a query parameter', () => `GET /backend/groups/${gid}/items?limit=1%00 HTTP/1.1\r\nAuthorization: Bearer ${jwt()}\r\n`, 400, 20028],
      ['a raw CR in the Authorization header', () => `GET /backend/me HTTP/1.1\r\nAuthorization: Bearer ${jwt()}\rX-Injected: yes\r\n`, 400, 20029],
      ['a folded header line', () => `GET /backend/me HTTP/1.1\r\nAuthorization: Bearer ${jwt()}\r\n X-Injected: yes\r\n`, 400, 20029],
      ['a raw CR in the request line', () => `GET /backend/me\rX-Injected: yes HTTP/1.1\r\n`, 400, 20029],
      ['a vertical tab in the Authorization header', () => `GET /backend/me HTTP/1.1\r\nAuthorization: Bearer ${jwt()}\x0bX-Injected: yes\r\n`, 400, 20024],
      ['a DEL in the Authorization header', () => `GET /backend/me HTTP/1.1\r\nAuthorization: Bearer ${jwt()}\x7f\r\n`, 400, 20024],
      ['a NUL in the Authorization header', () => `GET /backend/me HTTP/1.1\r\nAuthorization: Bearer ${jwt()}\x00\r\n`, 400, 20029],
    ];
    for (const [what, head, status, code] of cases) {
      it(what, async () => {
        let text = head();
        if (!text.includes('\r\n\r\n')) text += 'Host: localhost\r\nConnection: close\r\n\r\n';
        else text = text.replace('\r\n', '\r\nHost: localhost\r\nConnection: close\r\n');
        const r = await s.rawHttp(text);
        envelope(r, status, code, what);
        assert.doesNotMatch(r.head, /x-injected/i, 'nothing got into the answer\'s headers');
        await upstreamClean();
      });
    }

    it('nothing a client sends is stored with a CR or LF where a header could take it', async () => {
      const r = await s.rawHttp(`GET /backend/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${u.jwt}\nX-Injected: yes\r\nConnection: close\r\n\r\n`);
      // A bare LF ends a header line: two headers, the second the client's own, not echoed.
      assert.equal(r.status, 200, r.body);
      assert.doesNotMatch(r.head, /x-injected/i);
    });
  });

  describe('percent-encoded traversal in ids is refused before any program or upstream', () => {
    const ids = ['%2e%2e', '%2E%2E', '..%2f..%2fuser', `%2e%2e%2f${UUID}`, '..%5c..', '.%2e', '%2e.',
      `${UUID}%2f..`, '%252e%252e', '%252e%252e%252fme', '%c0%ae%c0%ae', '%e0%80%ae%e0%80%ae', '..%00'];
    const routes = [
      ['GET', (id) => `/api/v1/group/${id}/light`],
      ['DELETE', (id) => `/api/v1/group/${id}`],
      ['GET', (id) => `/backend/groups/${id}/items`],
      ['GET', (id) => `/backend/groups/${gid}/items/${id}`],
      ['PUT', (id) => `/backend/groups/${gid}/items/${id}`],
      ['DELETE', (id) => `/backend/groups/${id}/items/${UUID}`],
    ];
    for (const [method, url] of routes) {
      it(`${method} ${url('{id}').replace('undefined', '{gid}')}`, async () => {
        const items = s.rows('SELECT count(*) AS n FROM items')[0].n;
        for (const id of ids) {
          const r = await s.raw(method, url(id), { ...u.auth, 'content-type': 'application/json' },
            method === 'PUT' ? '{"data":"x"}' : undefined);
          // nginx refuses an encoded NUL in a path itself.
          envelope(r, 400, id.includes('%00') ? 20029 : 20004, `${method} ${url(id)}`);
        }
        // The item routes ask sentc about the group first; nothing else went up.
        for (const r of await s.upstream()) assert.equal(r.path, `/api/v1/group/${gid}/light`, r.path);
        assert.equal(s.rows('SELECT count(*) AS n FROM items')[0].n, items);
      });
    }
  });

  describe('Authorization: the scheme in any case, one or more spaces, then the token', () => {
    const cases = [
      ['Bearer <jwt>', (j) => `Bearer ${j}`, 200],
      ['bearer <jwt>', (j) => `bearer ${j}`, 200],
      ['BEARER <jwt>', (j) => `BEARER ${j}`, 200],
      ['Bearer, three spaces', (j) => `Bearer   ${j}`, 200],
      ['spaces around it', (j) => `  Bearer ${j}  `, 200],
      ['no space', (j) => `Bearer${j}`, 401, 20012],
      ['a tab for the space', (j) => `Bearer\t${j}`, 400, 20024],
      ['no token', () => 'Bearer', 401, 20012],
      ['another scheme', (j) => `Basic ${j}`, 401, 20012],
      ['space inside the token', (j) => `Bearer ${j} extra`, 401, 20013],
      ['the token alone', (j) => j, 401, 20012],
    ];
    for (const [what, hdr, status, code] of cases) {
      it(`${what}: ${status}${code ? ` (${code})` : ''}`, async () => {
        const r = await s.rawHttp(`GET /backend/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${hdr(u.jwt)}\r\nConnection: close\r\n\r\n`);
        if (status === 200) {
          assert.equal(r.status, 200, r.body);
          assert.deepEqual(r.json, { status: true, result: { v: 1 } });
        } else envelope(r, status, code, what);
      });
    }
  });

  describe('oversized and repeated headers', () => {
    const get = (headers) => `GET /backend/me HTTP/1.1\r\nHost: localhost\r\n${headers}Connection: close\r\n\r\n`;
    const auth = () => `Authorization: Bearer ${u.jwt}\r\n`;
    const cases = [
      ['Authorization over the programs\' 8 KiB', () => get(`Authorization: Bearer ${'a'.repeat(9000)}\r\n`), 400, 20024],
      ['Authorization over nginx\'s 16 KiB', () => get(`Authorization: Bearer ${'a'.repeat(20000)}\r\n`), 400, 20024],
      ['a Cookie over nginx\'s 16 KiB', () => get(`${auth()}Cookie: a=${'b'.repeat(20000)}\r\n`), 400, 20024],
      ['headers over 64 KiB in all', () => get(`${auth()}${`X-Pad: ${'p'.repeat(15000)}\r\n`.repeat(5)}`), 400, 20024],
      ['a request line over 16 KiB', () => `GET /backend/me?x=${'q'.repeat(20000)} HTTP/1.1\r\nHost: localhost\r\n${auth()}Connection: close\r\n\r\n`, 400, 20029],
      ['Authorization twice', () => get(`${auth()}Authorization: Bearer ${u.jwt}\r\n`), 400, 20029],
      ['Authorization twice, the second forged', () => get(`${auth()}Authorization: Bearer x.y.z\r\n`), 400, 20029],
      ['Cookie twice, on the cookie refresh route', () => `GET /backend/refresh HTTP/1.1\r\nHost: localhost\r\n${auth()}Cookie: sentc_refresh=a\r\nCookie: sentc_refresh=b\r\nConnection: close\r\n\r\n`, 400, 20024],
      // Only the session cookie routes read Cookie; elsewhere it is ignored.
      ['Cookie twice, on a route that reads none', () => get(`${auth()}Cookie: a=1\r\nCookie: b=2\r\n`), 200],
      ['a 12 KiB Cookie, on a route that reads none', () => get(`${auth()}Cookie: a=${'b'.repeat(12000)}\r\n`), 200],
    ];
    for (const [what, req, status, code] of cases) {
      it(`${what}: ${status}${code ? ` (${code})` : ''}`, async () => {
        const r = await s.rawHttp(req());
        if (status === 200) assert.deepEqual(r.json, { status: true, result: { v: 1 } }, r.body);
        else envelope(r, status, code, what);
        assert.deepEqual(await s.upstream(), []);
      });
    }
  });

  it('an integer json-c would change is refused, not relayed changed', async () => {
    const name = uniq('bigint');
    const r = await s.api('POST', '/api/v1/register', {
      body: `${JSON.stringify(registerInput(name)).slice(0, -1)},"user_data":{"n":123456789012345678901234567890}}`,
    });
    envelope(r, 400, 20006);
    assert.deepEqual(await s.upstream(), []);
    const put = await s.api('PUT', '/backend/me', { body: '{"n":-99999999999999999999}', headers: u.auth });
    envelope(put, 400, 20006);
  });
});

describe('JWT times at and past the ends of 64 bits, validly signed', () => {
  let s;
  let u;
  before(async () => {
    s = await start();
    u = await s.user('times', { t: 1 });
  });
  after(() => s.stop());

  /*
   * u's JWT with its time members written out as given (JSON numbers past
   * what a JS number holds exactly), signed with the app's key as sentc
   * signs: only sentc, or a leaked key, makes such a token.
   */
  function signed(times) {
    const c = claims(u.jwt);
    const [h] = u.jwt.split('.');
    const text = `{"aud":"${c.aud}","sub":"${c.sub}",${times},"fresh":true}`;
    const body = `${h}.${Buffer.from(text).toString('base64url')}`;
    const key = crypto.createPrivateKey({ key: Buffer.from(s.config.SENTC_JWT_SIGN_KEY, 'base64'), format: 'der', type: 'pkcs8' });
    return `${body}.${crypto.sign('sha384', Buffer.from(body), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  }

  /* me's JWT cache hits so far. */
  async function hits() {
    const r = await s.api('GET', '/backend/metrics');
    assert.equal(r.status, 200, r.text);
    const m = /^sentc_backend_jwt_cache_hits_total\{program="me"\} (\d+)$/m.exec(r.text);
    assert.ok(m, 'me has a JWT cache hit count');
    return Number(m[1]);
  }

  it('exp 2^63 - 1 (or up to 2^64 - 1) is a token that never expires, kept in the cache; the workers stay up', async () => {
    const workers = s.pids('me');
    const now = Math.floor(Date.now() / 1000);
    for (const times of ['"exp":9223372036854775807', `"exp":9223372036854775807,"iat":${now}`,
      '"exp":9223372036854775808', '"exp":18446744073709551615']) {
      const jwt = signed(times);
      const before0 = await hits();
      // The first is verified, the next two come from the cache.
      for (let i = 0; i < 3; i++) {
        const r = await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${jwt}` } });
        assert.equal(r.status, 200, `${times}: ${r.text}`);
        assert.deepEqual(r.json.result, { t: 1 });
      }
      assert.equal(await hits() - before0, 2, `${times}: served from the cache after the first`);
    }
    assert.deepEqual(s.pids('me').sort(), workers.sort(), 'no worker of me died');
    assert.doesNotMatch(s.log(), /killed by signal|exited with/);
  });

  it('an iat or nbf of 2^63 - 1 lies ahead; larger times and negative ones are refused; the workers stay up', async () => {
    const workers = s.pids('me');
    for (const [times, code] of [
      ['"exp":9223372036854775807,"iat":9223372036854775807', 20017],
      ['"exp":9223372036854775807,"nbf":9223372036854775807', 20017],
      ['"exp":9223372036854775807,"nbf":18446744073709551615', 20017],
      ['"exp":18446744073709551616', 20013],
      ['"exp":-9223372036854775808', 20018],
      ['"exp":9223372036854775807,"iat":-9223372036854775808', 20018],
      ['"exp":1e300', 20018],
    ]) {
      const jwt = signed(times);
      for (let i = 0; i < 2; i++) envelope(await s.api('GET', '/backend/me', { headers: { authorization: `Bearer ${jwt}` } }), 401, code, times);
    }
    assert.deepEqual(s.pids('me').sort(), workers.sort(), 'no worker of me died');
    assert.doesNotMatch(s.log(), /killed by signal|exited with/);
  });
});

describe('slow requests are cut off', () => {
  let s;
  before(async () => { s = await start(); });
  after(() => s.stop());

  const conf = fs.readFileSync(path.join(TOP, 'nginx/sentc-backend.conf'), 'utf8');
  const setting = (name) => new RegExp(`^${name}\\s+([^;]+);`, 'm').exec(conf)?.[1];
  const seconds = (v) => Number(/^(\d+)s$/.exec(v)?.[1]);

  it('the nginx snippet sets the limits, and docs/DEPLOY.md names each with its value', () => {
    const readme = fs.readFileSync(path.join(TOP, 'docs/DEPLOY.md'), 'utf8');
    for (const name of ['client_max_body_size', 'client_header_timeout', 'client_body_timeout', 'send_timeout',
      'keepalive_timeout', 'client_header_buffer_size', 'large_client_header_buffers']) {
      const v = setting(name);
      assert.ok(v, `the snippet sets ${name}`);
      assert.ok(readme.includes(`${name} ${v}`), `docs/DEPLOY.md names ${name} ${v}`);
    }
    assert.ok(seconds(setting('client_header_timeout')) <= 30);
    assert.ok(seconds(setting('client_body_timeout')) <= 30);
  });

  /*
   * Opens a connection, sends first, then more every interval ms until
   * the server closes it; resolves with how long that took and what came
   * back.
   */
  function trickle(first, more, interval) {
    return new Promise((resolve) => {
      const t0 = Date.now();
      let got = '';
      let sent = 0;
      const sock = net.connect(s.port, '127.0.0.1', () => sock.write(first));
      const timer = setInterval(() => {
        if (more !== null && !sock.destroyed) { sock.write(more); sent++; }
      }, interval);
      const giveUp = setTimeout(() => sock.destroy(), WAIT_MS);
      sock.on('data', (d) => { got += d; });
      sock.on('error', () => {});
      sock.on('close', () => {
        clearInterval(timer);
        clearTimeout(giveUp);
        resolve({ ms: Date.now() - t0, got, sent });
      });
    });
  }

  it('a request head trickled one header a second is cut off at client_header_timeout, unanswered', async () => {
    const limit = seconds(setting('client_header_timeout')) * 1000;
    await s.clearLog();
    const [head, body] = await Promise.all([
      trickle('GET /backend/health HTTP/1.1\r\nHost: localhost\r\n', 'X-Slow: 1\r\n', 1000),
      // A body that stops halfway: cut off once it pauses client_body_timeout.
      trickle('POST /api/v1/user/prepare_register_device HTTP/1.1\r\nHost: localhost\r\n'
        + 'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"device_identifier":', null, 1000),
    ]);
    assert.ok(head.ms >= limit - 1000 && head.ms < limit + 15000 * SLOW, `cut off after ${head.ms} ms`);
    assert.ok(head.sent >= limit / 1000 - 2, 'still trickling when cut off');
    assert.equal(head.got, '', 'no answer');
    assert.ok(body.ms >= limit - 1000 && body.ms < limit + 15000 * SLOW, `body cut off after ${body.ms} ms`);
    assert.equal(body.got, '');
    assert.deepEqual(await s.upstream(), [], 'the half body never reached a program');
  });
});

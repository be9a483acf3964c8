'use strict';
/*
 * How a program treats its FastCGI connections, straight on its socket:
 * kept connections (what nginx does with fastcgi_keep_conn and an upstream
 * keepalive), connections that are not kept, connections that send
 * nothing. Each program runs two workers (the development config).
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { start } = require('./harness');
const { Conn } = require('./fcgi');

const logout = { method: 'POST', uri: '/backend/logout' };

describe('FastCGI connections', () => {
  let s;
  let sock;
  const open = [];
  async function conn() {
    const c = new Conn(sock);
    open.push(c);
    await c.connected();
    return c;
  }

  before(async () => {
    s = await start();
    sock = path.join(s.dir, 'sock', 'logout.sock');
  });
  after(() => {
    for (const c of open) c.end();
    s.stop();
  });

  it('serves a new connection while every worker holds an idle kept one', async () => {
    const kept = [await conn(), await conn()];
    for (const c of kept) assert.equal((await c.request(logout)).status, 200);
    // Both connections stay open and idle, as nginx keeps them: more
    // connections than workers must still be served, each in time.
    for (let i = 0; i < 4; i++) {
      const c = await conn();
      const r = await c.request(logout);
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(r.json, { status: true, result: 'Success' });
    }
    for (const c of kept) assert.equal((await c.request(logout)).status, 200, 'the kept ones still serve');
  });

  it('answers request after request on one kept connection, and keeps it', async () => {
    const c = await conn();
    for (let i = 0; i < 50; i++) assert.equal((await c.request(logout)).status, 200);
    assert.equal(await c.closedWithin(300), false);
    // Not closed late either: it still serves.
    assert.equal((await c.request(logout)).status, 200);
  });

  it('reads what is left of a refused request before the next on the same connection', async () => {
    const c = await conn();
    const meSock = path.join(s.dir, 'sock', 'me.sock');
    const m = new Conn(meSock);
    open.push(m);
    await m.connected();
    // No JWT: refused before the body is read; the body spans many records.
    const body = JSON.stringify({ pad: 'x'.repeat(300 * 1024) });
    const r = await m.request({ method: 'PUT', uri: '/backend/me', body });
    assert.equal(r.status, 401, r.body);
    assert.equal(r.json.err_code, 20012);
    const u = await s.user('conn', { k: 1 });
    const next = await m.request({ method: 'GET', uri: '/backend/me', headers: { HTTP_AUTHORIZATION: u.auth.authorization } });
    assert.equal(next.status, 200, next.body);
    assert.deepEqual(next.json, { status: true, result: { k: 1 } });
    c.end();
  });

  it('closes a connection the server did not ask to keep', async () => {
    const c = await conn();
    assert.equal((await c.request({ ...logout, keep: false })).status, 200);
    assert.equal(await c.closedWithin(), true);
  });

  it('lets a connection that sends nothing hold no worker', async () => {
    const silent = [];
    for (let i = 0; i < 4; i++) silent.push(await conn());
    const c = await conn();
    assert.equal((await c.request(logout)).status, 200);
    for (const x of silent) x.end();
  });

  it('frees what a connection closed by the server held: 600 connections one after another', async () => {
    for (let i = 0; i < 600; i++) {
      const c = new Conn(sock);
      await c.connected();
      assert.equal((await c.request(logout)).status, 200, `connection ${i}`);
      c.end();
    }
    const c = await conn();
    assert.equal((await c.request(logout)).status, 200);
  });
});

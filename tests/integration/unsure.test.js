'use strict';
/*
 * Calls to sentc whose answer was lost (lib/sb_unsure.h), through nginx:
 * a register or a delete that sentc finishes after the backend gave up,
 * or whose answer comes garbled, is recorded and settled, so that no
 * sentc user lacks its own row and no own row outlives its sentc user.
 * The simulator's delay fault lets a request take effect when the delay
 * ends, whether the backend still waits or not.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { start, registerInput, waitFor } = require('./harness');

const TIMEOUT_MS = 400;
/* sb_unsure_after(): three upstream timeouts (rounded up to seconds) and 5 s. */
const AFTER_S = 3 * Math.ceil(TIMEOUT_MS / 1000) + 5;
/*
 * How long sentc holds a request that it finishes late: far past the
 * timeout, so that what the backend does after giving up (the answer, an
 * undo, a register of the name again) comes first on a busy machine too.
 */
const LATE_MS = 5000;
const REGISTER = 1;
const DELETE = 2;

let seq = 0;
const uniq = (p) => `${p}-${process.pid}-${++seq}`;
const input = (name) => ({ ...registerInput(name), user_data: { n: name } });

function envelope(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.status, false, r.text);
  assert.equal(r.json.err_code, code, r.text);
}

describe('lost answers', () => {
  let s;
  let admin;
  const atSentc = async (name) => (await s.sim('GET', 'state')).users.find((u) => u.device_identifier === name);
  const ownRow = (name) => s.rows(`SELECT user_id FROM users WHERE identifier = '${name}'`);
  const rowOf = (id) => s.rows(`SELECT 1 FROM users WHERE user_id = '${id}'`).length === 1;
  /* Waits until sentc has answered every request to path it received (a delayed one included). */
  const answered = (method, path) => waitFor(async () => {
    const held = (await s.upstream()).filter((x) => x.method === method && x.path === path);
    return held.length > 0 && held.every((x) => x.status !== null);
  }, `sentc to have answered every ${method} ${path}`);

  before(async () => {
    s = await start({ SENTC_BACKEND_UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) });
    admin = { authorization: `Bearer ${s.config.SENTC_BACKEND_ADMIN_TOKEN}` };
  });
  after(() => s.stop());
  beforeEach(async () => { await s.sim('DELETE', 'fail'); });

  describe('register', () => {
    it('sentc makes the user after the backend gave up: 504, recorded, and the user is deleted at sentc once the record is due', async () => {
      const name = uniq('late');
      await s.sim('POST', 'fail', { path: '/api/v1/register', mode: 'delay', delay_ms: LATE_MS, count: 1 });
      const r = await s.api('POST', '/api/v1/register', { body: input(name) });
      envelope(r, 504, 20011);
      assert.match(s.log(), /register lost its answer; recorded, to be settled in \d+ s/);
      const [rec] = s.unsure().filter((u) => u.key === name);
      assert.equal(rec.kind, REGISTER);
      assert.equal(rec.due - rec.since, AFTER_S, 'not settled before a register of the name that began earlier is over');

      // The undo came before sentc's work; the work lands later.
      await waitFor(async () => Boolean(await atSentc(name)), 'the late register to land at sentc');
      assert.deepEqual(ownRow(name), [], 'no own row');
      // Before it is due, passes leave it alone. (Due an hour later from
      // here on, so that a busy machine cannot make it due meanwhile.)
      s.sql(`UPDATE unsure SET due = due + 3600 WHERE key = '${name}'`);
      // A pass runs before each request (sb_unsure.h): each has run once answered.
      for (let i = 0; i < 3; i++) await s.api('DELETE', '/api/v1/user');
      assert.ok(await atSentc(name), 'not settled before it is due');

      await s.settle();
      assert.equal(await atSentc(name), undefined, 'the user sentc made late is deleted');
      assert.match(s.log(), /settled: a user a register made after losing its answer is deleted at sentc/);
      // Watched on until SB_UNSURE_KEEP: another late copy would go too.
      assert.equal(s.unsure().filter((u) => u.key === name).length, 1);

      // The name can be registered again; that ends the record.
      const again = await s.api('POST', '/api/v1/register', { body: input(name) });
      assert.equal(again.status, 200, again.text);
      assert.equal(ownRow(name).length, 1);
      assert.equal(s.unsure().filter((u) => u.key === name).length, 0);
    });

    it('a register of the name before the late one lands wins, and the record then ends with nothing deleted', async () => {
      const name = uniq('race');
      await s.sim('POST', 'fail', { path: '/api/v1/register', mode: 'delay', delay_ms: LATE_MS, count: 1 });
      envelope(await s.api('POST', '/api/v1/register', { body: input(name) }), 504, 20011);
      const again = await s.api('POST', '/api/v1/register', { body: input(name) });
      assert.equal(again.status, 200, again.text);
      const id = again.json.result.user_id;
      await answered('POST', '/api/v1/register'); // the late one lands: sentc refuses it (101)
      assert.equal((await atSentc(name)).user_id, id);
      assert.deepEqual(ownRow(name), [{ user_id: id }]);
      assert.equal(s.unsure().filter((u) => u.key === name).length, 0);
    });

    it('the undo fails too: 502, recorded instead of 500, and a pass deletes the user sentc made', async () => {
      const name = uniq('undo-fails');
      await s.sim('POST', 'fail', { path: '/api/v1/register', mode: 'truncate', count: 1 });
      await s.sim('POST', 'fail', { path: '/api/v1/user/forced/delete', mode: 'garbage', count: 1 });
      envelope(await s.api('POST', '/api/v1/register', { body: input(name) }), 502, 20009);
      assert.doesNotMatch(s.log(), /INCONSISTENT/);
      assert.ok(await atSentc(name));
      assert.equal(s.unsure().filter((u) => u.key === name).length, 1);
      await s.settle();
      assert.equal(await atSentc(name), undefined);
      assert.deepEqual(ownRow(name), []);
    });

    it('sentc\'s own 5xx envelope says the register failed: nothing is undone or recorded', async () => {
      const name = uniq('said-failed');
      await s.clearLog();
      await s.sim('POST', 'fail', { path: '/api/v1/register', mode: '5xx', count: 1 });
      envelope(await s.api('POST', '/api/v1/register', { body: input(name) }), 502, 20025);
      assert.deepEqual((await s.upstream()).map((u) => `${u.method} ${u.path}`),
        ['POST /api/v1/exists', 'POST /api/v1/register']);
      assert.equal(s.unsure().filter((u) => u.key === name).length, 0);
    });

    it('while another worker settles the name, a register of it is 503 (20039) and nothing is sent', async () => {
      const name = uniq('held');
      const now = Math.floor(Date.now() / 1000);
      s.sql(`INSERT INTO unsure (kind, key, since, due, held) VALUES (${REGISTER}, '${name}', ${now}, ${now + 60}, ${now + 60})`);
      await s.clearLog();
      const r = await s.api('POST', '/api/v1/register', { body: input(name) });
      envelope(r, 503, 20039);
      assert.match(r.json.err_msg, /try again/);
      assert.deepEqual(await s.upstream(), []);
      s.sql(`DELETE FROM unsure WHERE key = '${name}'`);
    });

    it('register asks the store first: if it cannot answer, 503 (20020) and nothing is sent', async () => {
      await s.clearLog();
      s.sql('ALTER TABLE unsure RENAME TO unsure_away');
      let r;
      try {
        r = await s.api('POST', '/api/v1/register', { body: input(uniq('no-store')) });
      } finally {
        s.sql('ALTER TABLE unsure_away RENAME TO unsure');
      }
      envelope(r, 503, 20020);
      assert.deepEqual(await s.upstream(), []);
    });

    it('a name that has its own row again is never deleted by a pass', async () => {
      const name = uniq('owned');
      const r = await s.api('POST', '/api/v1/register', { body: input(name) });
      assert.equal(r.status, 200, r.text);
      const now = Math.floor(Date.now() / 1000);
      s.sql(`INSERT INTO unsure (kind, key, since, due, held) VALUES (${REGISTER}, '${name}', ${now}, 0, 0)`);
      await s.settle();
      assert.equal((await atSentc(name)).user_id, r.json.result.user_id);
      assert.equal(s.unsure().filter((u) => u.key === name).length, 0, 'the record ends');
    });
  });

  describe('account delete', () => {
    // The register tests' records stay until SB_UNSURE_KEEP; passes over
    // them would add calls to the upstream log here.
    beforeEach(() => { s.sql('DELETE FROM unsure'); });

    async function user(prefix) {
      const name = uniq(prefix);
      const r = await s.api('POST', '/api/v1/register', { body: input(name) });
      assert.equal(r.status, 200, r.text);
      const { jwt } = await s.session(r.json.result.user_id);
      return { name, id: r.json.result.user_id, auth: { authorization: `Bearer ${jwt}` } };
    }

    it('sentc deletes after the backend gave up: the backend finishes the delete, 200, gone at sentc and here', async () => {
      const u = await user('del-late');
      await s.clearLog();
      await s.sim('POST', 'fail', { path: '/api/v1/user', method: 'DELETE', mode: 'delay', delay_ms: LATE_MS, count: 1 });
      const r = await s.api('DELETE', '/api/v1/user', { headers: u.auth });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: true, result: 'Success' });
      assert.deepEqual((await s.upstream()).map((x) => `${x.method} ${x.path} ${x.token}`),
        ['DELETE /api/v1/user secret', `DELETE /api/v1/user/forced/delete/${u.id} secret`]);
      assert.equal(await atSentc(u.name), undefined);
      assert.equal(rowOf(u.id), false);
      assert.equal(s.unsure().filter((x) => x.key === u.id).length, 0);
      await answered('DELETE', '/api/v1/user'); // the late delete finds nobody
      assert.equal(rowOf(u.id), false);
    });

    it('finishing fails too: the answer is the fault, the own data stays, and a pass finishes the delete', async () => {
      const u = await user('del-twice');
      await s.sim('POST', 'fail', { path: '/api/v1/user', method: 'DELETE', mode: 'garbage', count: 1 });
      await s.sim('POST', 'fail', { path: `/api/v1/user/forced/delete/${u.id}`, mode: 'garbage', count: 1 });
      envelope(await s.api('DELETE', '/api/v1/user', { headers: u.auth }), 502, 20010);
      assert.ok(rowOf(u.id), 'own data kept until sentc says the user is gone');
      const [rec] = s.unsure().filter((x) => x.key === u.id);
      assert.equal(rec.kind, DELETE);
      assert.equal(rec.due - rec.since, AFTER_S, 'tried again later');
      await s.settle();
      assert.equal(await atSentc(u.name), undefined);
      assert.equal(rowOf(u.id), false);
      assert.equal(s.unsure().filter((x) => x.key === u.id).length, 0);
      assert.match(s.log(), new RegExp(`settled: the delete of user ${u.id} is finished`));
    });

    it('an admin delete whose answer is lost is finished the same way', async () => {
      const u = await user('admin-late');
      await s.sim('POST', 'fail', { path: '/api/v1/user/forced/delete', method: 'PUT', mode: 'delay', delay_ms: LATE_MS, count: 1 });
      const r = await s.api('PUT', '/api/v1/user/forced/delete', { body: { user_identifier: u.name }, headers: admin });
      assert.equal(r.status, 200, r.text);
      assert.equal(await atSentc(u.name), undefined);
      assert.equal(rowOf(u.id), false);
      assert.doesNotMatch(s.log(), /INCONSISTENT/);
    });
  });
});

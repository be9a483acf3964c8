'use strict';
/*
 * Encrypted file parts on the app's own storage (docs/FILES.md): the SDK's
 * part upload to file_part_url, registered at sentc with the secret token
 * and kept under the part id sentc gives; downloads; sentc's delete
 * callback to storage_url with the app's auth_token. Bad input and sentc's
 * refusals and faults keep nothing.
 */
const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { start, forge, waitFor } = require('./harness');

const AUTH_TOKEN = `cb-${crypto.randomBytes(16).toString('hex')}`;
const MAX_PART = 5 * 1024 * 1024;

for (const store of ['dir', 'db']) describe(`file parts on own storage (SENTC_BACKEND_FILE_STORE=${store})`, () => {
  let s; let owner; let other; let dir; let app;

  // What the store holds: the folder's names, or the table's part ids.
  const stored = () => (store === 'dir' ? fs.readdirSync(dir)
    : s.rows('SELECT part_id FROM file_parts').map((r) => r.part_id)).sort();
  const has = (id) => stored().includes(id);
  const newFile = async (user = owner) => {
    const r = await s.api('POST', '/api/v1/file', {
      headers: { ...user.auth, ...app },
      body: {
        master_key_id: crypto.randomUUID(), encrypted_key: 'ZW5jcnlwdGVk', encrypted_key_alg: 'AES-GCM-256',
        belongs_to_id: null, belongs_to_type: 'None', encrypted_file_name: null,
      },
    });
    assert.equal(r.status, 200, r.text);
    return r.json.result;
  };
  const put = (session, seq, end, body, headers = owner.auth) => s.api('POST',
    `/backend/files/part/${session}/${seq}/${end}`, { headers: { ...headers, ...app, 'content-type': 'application/json' }, body });
  const get = (partId, headers = app) => fetch(`${s.base}/backend/files/part/${partId}`, { headers });
  const callback = (ids, token = AUTH_TOKEN) => s.api('POST', '/backend/files/delete', {
    headers: token === null ? {} : { 'x-sentc-app-token': token }, body: ids,
  });
  const meta = async (fileId) => {
    const r = await s.api('GET', `/api/v1/file/${fileId}`, { headers: { ...owner.auth, ...app } });
    assert.equal(r.status, 200, r.text);
    return r.json.result;
  };

  before(async () => {
    s = await start({ SENTC_BACKEND_FILE_AUTH_TOKEN: AUTH_TOKEN, SENTC_BACKEND_FILE_STORE: store });
    dir = s.env.SENTC_BACKEND_FILE_DIR || path.join(s.dir, 'files');
    app = { 'x-sentc-app-token': s.config.SENTC_PUBLIC_TOKEN };
    owner = await s.user('owner');
    other = await s.user('other');
    await s.sim('POST', 'files/options', {
      file_storage: 1, storage_url: `${s.base}/backend/files/delete`, auth_token: AUTH_TOKEN,
    });
  });
  after(() => s.stop());
  beforeEach(() => s.clearLog());

  it('parts are registered with the secret token, kept under the part id, and read back byte for byte', async () => {
    const { file_id, session_id } = await newFile();
    const parts = [crypto.randomBytes(1024 * 1024), crypto.randomBytes(4 * 1024 * 1024 + 300), crypto.randomBytes(7)];
    for (const [i, bytes] of parts.entries()) {
      const r = await put(session_id, i + 1, i === parts.length - 1, bytes);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: true, result: 'Success' });
    }
    const up = (await s.upstream()).filter((x) => x.path.startsWith('/api/v1/file/part/'));
    assert.deepEqual(up.map((x) => [x.method, x.path, x.token, x.auth]), parts.map((_, i) => [
      'PATCH', `/api/v1/file/part/${session_id}/${i + 1}/${i === parts.length - 1}/${owner.id}`, 'secret', null]));
    const list = (await meta(file_id)).part_list;
    assert.equal(list.length, 3);
    for (const [i, p] of list.entries()) {
      assert.equal(p.sequence, i + 1);
      assert.equal(p.extern_storage, true);
      const res = await get(p.part_id);
      assert.equal(res.status, 200);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(parts[i]), `part ${i + 1} read back`);
      assert.ok(has(p.part_id));
      // nginx sends it (SENTC_BACKEND_FILE_ACCEL): its workers read through the group
      if (store === 'dir') assert.equal(fs.statSync(path.join(dir, p.part_id)).mode & 0o777, 0o640, 'owner writes, group reads');
    }
    assert.ok(!stored().some((n) => n.startsWith('.tmp')), 'no temporary file left');
    // the delete callback removes them
    const r = await callback(list.map((p) => p.part_id));
    assert.deepEqual(r.json, { status: true, result: 'Success' });
    for (const p of list) {
      assert.ok(!has(p.part_id));
      const res = await get(p.part_id);
      assert.equal(res.status, 404);
      assert.equal((await res.json()).err_code, 20042);
    }
  });

  it('an expired JWT still uploads (as sentc takes it: one JWT for a whole upload); a bad one does not', async () => {
    const { session_id } = await newFile();
    const before = stored();
    const { jwt: expired } = await s.session(owner.id, { exp_in: -3600 });
    let r = await put(session_id, 1, false, 'part-one', { authorization: `Bearer ${expired}` });
    assert.equal(r.status, 200, r.text);
    const bad = forge(owner.jwt);
    r = await put(session_id, 2, false, 'part-two', { authorization: `Bearer ${bad}` });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.status, false);
    r = await put(session_id, 2, false, 'part-two', {});
    assert.equal(r.status, 401, r.text);
    assert.equal(stored().length, before.length + 1, 'only the first part kept');
    assert.equal((await s.upstream()).filter((x) => x.method === 'PATCH').length, 1, 'sentc asked once');
  });

  it('bad input: oversized, empty, bad ids and paths get envelopes, and nothing is kept or registered', async () => {
    const { session_id } = await newFile();
    const before = stored();
    const cases = [
      [put(session_id, 1, false, Buffer.alloc(MAX_PART + 1, 1)), 413, 20005],
      [put(session_id, 1, false, Buffer.alloc(7 * 1024 * 1024, 1)), 413, 20005], // nginx's own cap
      [put(session_id, 1, false, ''), 400, 20034],
      [put('not-a-uuid', 1, false, 'x'), 400, 20004],
      [put(session_id, 'x1', false, 'x'), 400, 20004],
      [put(session_id, '01', false, 'x'), 400, 20004],
      [put(session_id, '1000000000', false, 'x'), 400, 20004],
      [put(session_id, 1, 'maybe', 'x'), 404, 20003],
      [s.api('GET', '/backend/files/part/not-a-uuid', { headers: app }), 400, 20004],
      [s.api('PUT', `/backend/files/part/${session_id}/1/true`, { headers: owner.auth, body: 'x' }), 405, 20002],
    ];
    for (const [p, status, code] of cases) {
      const r = await p;
      assert.equal(r.status, status, r.text);
      assert.equal(r.json.status, false, r.text);
      assert.equal(r.json.err_code, code, r.text);
    }
    assert.deepEqual(stored(), before);
    assert.equal((await s.upstream()).filter((x) => x.method === 'PATCH').length, 0);
    // a download without the app's token, as sentc refuses one
    const res = await get(crypto.randomUUID(), {});
    assert.equal(res.status, 401);
    assert.equal((await res.json()).err_code, 200);
  });

  it("sentc's refusal is answered as sentc gave it, and the part is not kept", async () => {
    const mine = await newFile();
    const before = stored();
    // another user's session (sentc: 510), an unknown one, a bad sequence
    for (const [sess, seq, user, code] of [[mine.session_id, 1, other, 510], [crypto.randomUUID(), 1, owner, 510]]) {
      const r = await put(sess, seq, false, 'bytes', user.auth);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.err_code, code, r.text);
    }
    // the app's storage is not its own (520)
    await s.sim('POST', 'files/options', { file_storage: 0 });
    try {
      const r = await put(mine.session_id, 1, true, 'bytes');
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.err_code, 520);
    } finally {
      await s.sim('POST', 'files/options', { file_storage: 1 });
    }
    assert.deepEqual(stored(), before);
    assert.equal((await meta(mine.file_id)).part_list.length, 0);
  });

  it('sentc down or answering garbage: 502/504, nothing kept', async () => {
    const { session_id, file_id } = await newFile();
    const before = stored();
    for (const mode of ['close', '5xx', 'garbage']) {
      await s.sim('POST', 'fail', { path: '/api/v1/file/part/*', method: 'PATCH', mode, count: 1 });
      const r = await put(session_id, 1, false, 'bytes');
      assert.ok([502, 503, 504].includes(r.status), `${mode}: ${r.status} ${r.text}`);
      assert.equal(r.json.status, false);
      assert.deepEqual(stored(), before, mode);
    }
    // once sentc answers again the same part goes through
    const r = await put(session_id, 1, false, 'bytes');
    assert.equal(r.status, 200, r.text);
    assert.equal((await meta(file_id)).part_list.length, 1);
  });

  it("sentc's answer lost after it registered the part: nothing kept here, and the id it holds is harmless", async () => {
    const { session_id, file_id } = await newFile();
    const before = stored();
    await s.sim('POST', 'fail', { path: '/api/v1/file/part/*', method: 'PATCH', mode: 'vanish', count: 1 });
    const r = await put(session_id, 1, false, 'bytes');
    assert.ok([502, 504].includes(r.status), `${r.status} ${r.text}`);
    assert.deepEqual(stored(), before, 'nothing kept');
    const [{ part_id: orphan }] = (await meta(file_id)).part_list;
    // a download of it is a 404; its delete callback a no-op
    const res = await get(orphan);
    assert.equal(res.status, 404);
    assert.equal((await res.json()).err_code, 20042);
    const cb = await callback([orphan]);
    assert.deepEqual(cb.json, { status: true, result: 'Success' });
    // the upload again goes through
    assert.equal((await put(session_id, 1, true, 'bytes')).status, 200);
  });

  it('a part the store refuses after sentc registered it is removed at sentc again', { skip: store !== 'db' && 'the database store (a folder that takes the temporary file takes its name)' }, async () => {
    const { session_id, file_id } = await newFile();
    const before = stored();
    const undo = s.failWrites('file_parts', 'INSERT');
    let r;
    try {
      r = await put(session_id, 1, true, 'bytes');
    } finally {
      undo();
    }
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.err_code, 20022, r.text);
    const up = (await s.upstream()).filter((x) => x.path.startsWith('/api/v1/file/part/'));
    assert.equal(up.length, 2);
    assert.equal(up[0].method, 'PATCH');
    assert.match(up[1].path, /^\/api\/v1\/file\/part\/[0-9a-f-]{36}$/);
    assert.deepEqual([up[1].method, up[1].token], ['DELETE', 'secret']);
    assert.deepEqual((await meta(file_id)).part_list, []);
    assert.deepEqual(stored(), before);
  });

  it('the delete callback: only with the auth_token, only a JSON array of part ids, all or nothing', async () => {
    const { session_id, file_id } = await newFile();
    assert.equal((await put(session_id, 1, true, 'keep me')).status, 200);
    const [{ part_id: pid }] = (await meta(file_id)).part_list;
    for (const [ids, token, status, code] of [
      [[pid], null, 401, 20043], [[pid], 'wrong', 401, 20043], [[pid], s.config.SENTC_SECRET_TOKEN, 401, 20043],
      [{ ids: [pid] }, AUTH_TOKEN, 400, 20007], [[pid, 'nope'], AUTH_TOKEN, 400, 20004],
      ['not json', AUTH_TOKEN, 400, 20006], [[pid, 5], AUTH_TOKEN, 400, 20004],
    ]) {
      const r = await callback(ids, token);
      assert.equal(r.status, status, r.text);
      assert.equal(r.json.err_code, code, r.text);
      assert.ok(has(pid), 'still there');
    }
    // an id already gone is no error
    const r = await callback([crypto.randomUUID(), pid]);
    assert.equal(r.status, 200, r.text);
    assert.ok(!has(pid));
  });

  it("deleting the file at sentc: sentc's worker calls storage_url and the parts go", async () => {
    const { session_id, file_id } = await newFile();
    for (const seq of [1, 2]) assert.equal((await put(session_id, seq, seq === 2, `part ${seq}`)).status, 200);
    const ids = (await meta(file_id)).part_list.map((p) => p.part_id);
    const r = await s.api('DELETE', `/api/v1/file/${file_id}`, { headers: { ...owner.auth, ...app } });
    assert.equal(r.status, 200, r.text);
    await waitFor(() => ids.every((id) => !has(id)), 'the parts to go');
    const cbs = (await s.sim('GET', 'files/callbacks')).callbacks.filter((c) => c.ids.includes(ids[0]));
    await waitFor(async () => (await s.sim('GET', 'files/callbacks')).callbacks.find((c) => c.ids.includes(ids[0])).outcome !== 'pending', 'the callback answered');
    assert.equal(cbs.length, 1);
    const [cb] = (await s.sim('GET', 'files/callbacks')).callbacks.filter((c) => c.ids.includes(ids[0]));
    assert.equal(cb.status, 200, cb.body);
  });

  it('a temporary file a crash left (older than a day) goes at the first upload of a program; a fresh one stays', { skip: store !== 'dir' && 'the folder store only' }, async () => {
    const old = path.join(dir, '.tmp-crashed-old');
    const young = path.join(dir, '.tmp-crashed-young');
    fs.writeFileSync(old, 'half a part');
    fs.writeFileSync(young, 'being written');
    const day = Date.now() / 1000 - 25 * 3600;
    fs.utimesSync(old, day, day);
    await s.restart('file-part', { SENTC_BACKEND_FILE_DIR: dir, SENTC_BACKEND_FILE_AUTH_TOKEN: AUTH_TOKEN });
    const { session_id } = await newFile();
    // every worker of the program sweeps at its first upload: one upload is enough for one
    assert.equal((await put(session_id, 1, true, 'bytes')).status, 200);
    assert.ok(!fs.existsSync(old), 'the old one is gone');
    assert.ok(fs.existsSync(young), 'the young one stays');
    fs.rmSync(young);
    assert.match(s.log(), /file parts: removed \.tmp-crashed-old, a part never named/);
  });

  it('with SENTC_BACKEND_FILE_ACCEL empty the program sends the part itself; without an auth_token the callback is closed', { skip: store !== 'dir' && 'the folder store only' }, async () => {
    await s.restart('file-part', { SENTC_BACKEND_FILE_DIR: dir, SENTC_BACKEND_FILE_ACCEL: '', SENTC_BACKEND_FILE_AUTH_TOKEN: '' });
    try {
      const { session_id, file_id } = await newFile();
      const bytes = crypto.randomBytes(300000);
      assert.equal((await put(session_id, 1, true, bytes)).status, 200);
      const [{ part_id: pid }] = (await meta(file_id)).part_list;
      const res = await get(pid);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/octet-stream');
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes));
      assert.equal(fs.statSync(path.join(dir, pid)).mode & 0o777, 0o600, 'owner only');
      const r = await callback([pid]);
      assert.equal(r.status, 403, r.text);
      assert.equal(r.json.err_code, 20044);
      assert.ok(fs.existsSync(path.join(dir, pid)));
    } finally {
      await s.restart('file-part', { SENTC_BACKEND_FILE_DIR: dir, SENTC_BACKEND_FILE_AUTH_TOKEN: AUTH_TOKEN });
    }
  });
});

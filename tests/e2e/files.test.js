'use strict';
/*
 * The proof for files on the app's own storage: a user registered and
 * logged in with sentc_wasm 0.15.0 through the backend uploads a file of
 * several parts with the SDK's own functions, as the JS wrapper's Uploader
 * drives them (file_register_file, then file_upload_part_start and
 * file_upload_part per 4 MiB chunk, with file_part_url = the backend's);
 * the backend registers each part at sentc and keeps it. The file is read
 * back as the wrapper's Downloader does (the part list from sentc, then
 * file_download_and_decrypt_file_part_start / _part from file_part_url)
 * and decrypts to the same bytes. Deleting the file at sentc makes sentc's
 * worker call the backend's storage_url with the auth_token, and the parts
 * are gone. On each store: the folder, and the database (SQLite, or
 * PostgreSQL with SB_TEST_PG).
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const { start, waitFor } = require('../integration/harness');
const { sdk, sent, forget } = require('./sdk');

const PASSWORD = 'correct horse battery staple';
const CHUNK = 4 * 1024 * 1024; // the JS wrapper's Uploader chunk_size
const AUTH_TOKEN = `cb-${crypto.randomBytes(16).toString('hex')}`;

for (const store of ['dir', 'db']) describe(`files on own storage with sentc_wasm (SENTC_BACKEND_FILE_STORE=${store})`, () => {
  let s; let user; let key; let token; let partUrl; let dir;
  const has = (id) => (store === 'dir' ? fs.existsSync(path.join(dir, id))
    : s.rows(`SELECT part_id FROM file_parts WHERE part_id = '${id}'`).length === 1);

  before(async () => {
    s = await start({ SENTC_BACKEND_FILE_AUTH_TOKEN: AUTH_TOKEN, SENTC_BACKEND_FILE_STORE: store });
    dir = path.join(s.dir, 'files');
    token = s.config.SENTC_PUBLIC_TOKEN;
    partUrl = `${s.base}/backend/files/part`;
    await s.sim('POST', 'files/options', {
      file_storage: 1, storage_url: `${s.base}/backend/files/delete`, auth_token: AUTH_TOKEN,
    });
    const name = `files-${store}-${process.pid}`;
    await sdk.register(s.base, token, name, PASSWORD);
    user = await sdk.login(s.base, token, name, PASSWORD);
    [key] = user.get_user_keys();
  });
  after(() => s.stop());

  it('uploads, downloads and decrypts a file of three parts, then the delete callback removes them', async () => {
    const file = crypto.randomBytes(2 * CHUNK + 12345);
    const jwt = user.get_jwt();

    // Uploader.prepareFileRegister / uploadFile: a non-registered key under the newest key
    const gen = sdk.generate_non_register_sym_key(key.group_key);
    const contentKey = gen.get_key();
    const reg = await sdk.file_register_file(s.base, token, jwt, key.group_key_id, contentKey,
      gen.get_encrypted_key(), undefined, '"None"', 'proof.bin', undefined, undefined);
    const fileId = reg.get_file_id();
    const sessionId = reg.get_session_id();

    // Uploader.checkFileUpload, chunk by chunk
    forget();
    let next = contentKey;
    let seq = 0;
    for (let startAt = 0; startAt < file.length; startAt += CHUNK) {
      const part = new Uint8Array(file.subarray(startAt, startAt + CHUNK));
      const isEnd = startAt + CHUNK >= file.length;
      seq++;
      next = seq === 1
        ? await sdk.file_upload_part_start(s.base, partUrl, token, jwt, sessionId, isEnd, seq, next, undefined, part)
        : await sdk.file_upload_part(s.base, partUrl, token, jwt, sessionId, isEnd, seq, next, undefined, part);
    }
    assert.equal(seq, 3);
    const uploads = sent();
    assert.deepEqual(uploads.map((r) => [r.method, r.url]), [1, 2, 3].map((i) => ['POST',
      `${partUrl}/${sessionId}/${i}/${i === 3}`]));
    for (const r of uploads) {
      assert.equal(r.headers.authorization, `Bearer ${jwt}`);
      assert.equal(r.response.status, 200, r.response.text);
    }

    // Downloader.downloadFileMetaInformation: the part list from sentc (through the backend's origin)
    const res = await fetch(`${s.base}/api/v1/file/${fileId}`, {
      headers: { 'x-sentc-app-token': token, authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    });
    const meta = (await res.json()).result;
    assert.equal(meta.part_list.length, 3);
    const ids = meta.part_list.map((p) => p.part_id);
    for (const id of ids) assert.ok(has(id), `part ${id} stored under its id`);

    // Downloader: getNonRegisteredKey, then each part decrypted with the key the one before gave
    const fileKey = sdk.done_fetch_sym_key(key.group_key, meta.encrypted_key, true);
    const chunks = [];
    let k = fileKey;
    for (const [i, id] of ids.entries()) {
      const out = i === 0
        ? await sdk.file_download_and_decrypt_file_part_start(s.base, partUrl, token, id, k, undefined)
        : await sdk.file_download_and_decrypt_file_part(s.base, partUrl, token, id, k, undefined);
      chunks.push(Buffer.from(out.get_file()));
      k = out.get_next_file_key();
    }
    assert.ok(Buffer.concat(chunks).equals(file), 'the same bytes');

    // Deleting the file: sentc's worker calls storage_url, the parts go
    const del = await fetch(`${s.base}/api/v1/file/${fileId}`, {
      method: 'DELETE',
      headers: { 'x-sentc-app-token': token, authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    });
    assert.equal((await del.json()).status, true);
    await waitFor(() => ids.every((id) => !has(id)), 'the parts to be removed');
    for (const id of ids) {
      const r = await fetch(`${partUrl}/${id}`, { headers: { 'x-sentc-app-token': token } });
      assert.equal(r.status, 404);
    }
    await assert.rejects(sdk.file_download_and_decrypt_file_part_start(s.base, partUrl, token, ids[0], fileKey, undefined));
  });
});

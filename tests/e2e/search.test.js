'use strict';
/*
 * Searchable and sortable items with the SDK's own output: a user registered
 * and logged in with sentc_wasm 0.15.0 through the backend; the HMAC and
 * sortable (OPE) keys of the user's group decrypted by the SDK from what
 * sentc holds; the hashes made by create_searchable(_raw), the sortable
 * numbers by sortable_encrypt_(raw_)number / _string. Items stored through
 * the backend are then found by prefix, by word (search()) and by range,
 * and every answer is checked against a plain search of the cleartext.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { start } = require('../integration/harness');
const { sdk } = require('./sdk');

const PASSWORD = 'correct horse battery staple';
const WORDS = ['apple', 'apricot', 'banana', 'band', 'bandana', 'cherry', 'café', 'app', 'zebra', 'ärger'];

describe('searchable and sortable items with sentc_wasm', () => {
  let s; let hmacKey; let sortKey; let auth; let gid; const items = [];

  before(async () => {
    s = await start();
    const name = `search-${process.pid}`;
    await s.clearLog();
    await sdk.register(s.base, s.config.SENTC_PUBLIC_TOKEN, name, PASSWORD);
    const reg = (await s.upstream()).find((x) => x.path === '/api/v1/register');
    const user = await sdk.login(s.base, s.config.SENTC_PUBLIC_TOKEN, name, PASSWORD);
    const [key] = user.get_user_keys();
    const [hmac] = user.get_hmac_keys();
    // The user group's keys as the SDK decrypts them (sentc holds them encrypted).
    hmacKey = sdk.group_decrypt_hmac_key(key.group_key, hmac.key_data);
    sortKey = sdk.group_decrypt_sortable_key(key.group_key, JSON.stringify({
      id: crypto.randomUUID(),
      encrypted_sortable_key: reg.body.group.encrypted_sortable_key,
      encrypted_sortable_alg: reg.body.group.encrypted_sortable_alg,
      encrypted_sortable_encryption_key_id: key.group_key_id,
      time: 0,
    }));
    auth = { authorization: `Bearer ${user.get_jwt()}` };
    gid = await s.group({ auth });
    for (const [i, word] of WORDS.entries()) {
      const n = (i * 6151) % 65533;
      const item = { iid: crypto.randomUUID(), word, n, name: word.slice(0, 4) };
      const searchable = sdk.create_searchable(hmacKey, word, false);
      assert.equal(searchable.get_alg(), 'HMAC-SHA256');
      const hashes = searchable.get_hashes();
      assert.equal(hashes.length, Buffer.byteLength(word), 'one hash per byte');
      item.num = sdk.sortable_encrypt_raw_number(sortKey, BigInt(n));
      item.str = sdk.sortable_encrypt_string(sortKey, /^[\x20-\x7e]+$/.test(word) ? word : 'zzzz').get_number();
      const r = await s.api('PUT', `/backend/groups/${gid}/items/${item.iid}`, {
        headers: auth,
        body: {
          data: `ciphertext-${i}`,
          hashes: [hashes, sdk.create_searchable_raw(hmacKey, `#${n}`, true)],
          sortable: { num: String(item.num), str: Number(item.str) },
        },
      });
      assert.equal(r.status, 200, r.text);
      items.push(item);
    }
  });
  after(() => s.stop());

  const find = async (q) => {
    const r = await s.api('GET', `/backend/groups/${gid}/items?${q}&limit=1000`, { headers: auth });
    assert.equal(r.status, 200, r.text);
    return r.json.result.items.map((x) => x.item_id);
  };
  const ids = (xs) => xs.map((x) => x.iid);

  it('by prefix: search() of any prefix finds the items whose text starts with it', async () => {
    for (const p of ['a', 'ap', 'app', 'appl', 'b', 'ban', 'band', 'c', 'ca', 'caf', 'café', 'ä', 'är', 'x', 'apples']) {
      const expected = ids(items.filter((x) => Buffer.from(x.word).subarray(0, Buffer.byteLength(p)).equals(Buffer.from(p)))).sort();
      assert.deepEqual(await find(`hash=${sdk.search(hmacKey, p)}`), expected, `prefix ${p}`);
    }
  });

  it('by word: search() of a whole text finds exactly the items with that text', async () => {
    for (const w of ['app', 'apple', 'band', 'bandana', 'café', 'ärger', 'ban', 'x']) {
      assert.deepEqual(await find(`word=${sdk.search(hmacKey, w)}`), ids(items.filter((x) => x.word === w)).sort(), `word ${w}`);
    }
    // a full (exact-only) searchable
    const i = items[3];
    assert.deepEqual(await find(`word=${sdk.search(hmacKey, `#${i.n}`)}`), [i.iid]);
  });

  it('by range: the OPE numbers order and bound the items as the cleartext numbers do', async () => {
    const plain = (lo, hi, desc) => items.filter((x) => x.n >= lo && x.n <= hi)
      .sort((a, b) => (desc ? b.n - a.n : a.n - b.n)).map((x) => x.iid);
    for (const [lo, hi] of [[0, 65532], [100, 30000], [6151, 6151], [30001, 65532]]) {
      const min = sdk.sortable_encrypt_raw_number(sortKey, BigInt(lo));
      const max = sdk.sortable_encrypt_raw_number(sortKey, BigInt(hi));
      assert.deepEqual(await find(`sort=num&min=${min}&max=${max}`), plain(lo, hi, false), `${lo}..${hi}`);
      assert.deepEqual(await find(`sort=num&min=${min}&max=${max}&order=desc`), plain(lo, hi, true), `${lo}..${hi} desc`);
    }
  });

  it('strings: sortable_encrypt_string orders as the cleartext the SDK sorts by', async () => {
    // The SDK's number for a string: its first four bytes (padded with *) as
    // a big-endian integer, divided by 65534 (SENTC_API.md), then OPE.
    const plain = (w) => Math.floor(Buffer.from(w.padEnd(4, '*')).subarray(0, 4).readUInt32BE(0) / 65534);
    const ascii = items.filter((x) => /^[\x20-\x7e]+$/.test(x.word));
    const got = (await find('sort=str')).filter((iid) => ascii.some((x) => x.iid === iid));
    assert.equal(got.length, ascii.length);
    const keys = got.map((iid) => plain(ascii.find((x) => x.iid === iid).word));
    assert.deepEqual(keys, [...keys].sort((a, b) => a - b), 'ascending');
    const lo = sdk.sortable_encrypt_raw_string(sortKey, 'b');
    const hi = sdk.sortable_encrypt_raw_string(sortKey, 'czzz');
    const inRange = ascii.filter((x) => plain(x.word) >= plain('b') && plain(x.word) <= plain('czzz')).map((x) => x.iid).sort();
    assert.deepEqual((await find(`sort=str&min=${lo}&max=${hi}`)).sort(), inRange);
  });
});

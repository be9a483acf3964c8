'use strict';
/*
 * Searchable and sortable items: the hashes and sortable values an item
 * carries, validated and capped, and the queries on a group's items by
 * hash, by word and by sortable range, paged by a cursor that stays
 * stable while items are written. (The hashes here are made as the SDK
 * makes them, HMAC-SHA256 of each byte prefix; tests/e2e/search.test.js
 * uses the SDK itself.)
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { start } = require('./harness');

const id = () => crypto.randomUUID();
const url = (gid, iid) => `/backend/groups/${gid}/items${iid ? `/${iid}` : ''}`;
const KEY = crypto.randomBytes(32);
const h = (text) => crypto.createHmac('sha256', KEY).update(text).digest('base64url');
/* The SDK's createSearchRaw: one hash per byte prefix, the last the whole text. */
const hashes = (text) => {
  const b = Buffer.from(text);
  return Array.from({ length: b.length }, (_, i) => crypto.createHmac('sha256', KEY).update(b.subarray(0, i + 1)).digest('base64url'));
};

describe('searchable and sortable items', () => {
  let s; let owner; let member; let stranger; let gid;
  const put = (g, iid, body, who = owner) => s.api('PUT', url(g, iid), { body, headers: who.auth });
  const query = (g, q, who = owner) => s.api('GET', `${url(g)}?${q}`, { headers: who.auth });
  const ids = (r) => r.json.result.items.map((x) => x.item_id);
  /* Every page of a query, following next. */
  async function all(g, q, limit) {
    const out = [];
    let after = '';
    for (;;) {
      const r = await query(g, `${q}&limit=${limit}${after ? `&after=${after}` : ''}`);
      assert.equal(r.status, 200, r.text);
      out.push(...ids(r));
      if (r.json.result.next === null) return out;
      after = encodeURIComponent(r.json.result.next);
    }
  }

  before(async () => {
    s = await start();
    owner = await s.user('owner');
    member = await s.user('member');
    stranger = await s.user('stranger');
    gid = await s.group(owner);
    await s.sim('POST', 'group/member', { group_id: gid, user_id: member.id, rank: 3 });
  });
  after(() => s.stop());

  it('finds items by prefix (any hash), by word (the last hash) and by range, as a plain search would', async () => {
    const g = await s.group(owner);
    await s.sim('POST', 'group/member', { group_id: g, user_id: member.id, rank: 3 });
    const words = ['apple', 'apricot', 'banana', 'app', 'band', 'cherry', 'apple'];
    const items = words.map((w, i) => ({ iid: id(), w, n: (i * 7919) % 100 }));
    for (const it of items) {
      const r = await put(g, it.iid, { data: `c-${it.w}`, hashes: [hashes(it.w), hashes(`x${it.n}`)], sortable: { n: it.n, s: String(it.n * 1000) } }, member);
      assert.equal(r.status, 200, r.text);
    }
    const sorted = (xs) => xs.map((x) => x.iid).sort();
    for (const p of ['a', 'ap', 'app', 'apple', 'b', 'ban', 'band', 'c', 'z']) {
      const r = await query(g, `hash=${h(p)}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(ids(r), sorted(items.filter((x) => x.w.startsWith(p))), `prefix ${p}`);
      const w = await query(g, `word=${h(p)}`);
      assert.deepEqual(ids(w), sorted(items.filter((x) => x.w === p)), `word ${p}`);
    }
    const byN = (desc) => (a, b) => (desc ? b.n - a.n || (b.iid < a.iid ? -1 : 1) : a.n - b.n || (a.iid < b.iid ? -1 : 1));
    for (const [min, max] of [[0, 99], [10, 50], [50, 50], [99, 0 + 99], [3, 4]]) {
      const inRange = items.filter((x) => x.n >= min && x.n <= max);
      let r = await query(g, `sort=n&min=${min}&max=${max}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(ids(r), [...inRange].sort(byN(false)).map((x) => x.iid), `asc ${min}..${max}`);
      assert.deepEqual(r.json.result.items.map((x) => x.value), [...inRange].sort(byN(false)).map((x) => x.n));
      r = await query(g, `sort=n&min=${min}&max=${max}&order=desc`);
      assert.deepEqual(ids(r), [...inRange].sort(byN(true)).map((x) => x.iid), `desc ${min}..${max}`);
    }
    // a value sent as a decimal string is the same number
    let r = await query(g, 'sort=s&min=10000&max=50000');
    assert.deepEqual(ids(r), items.filter((x) => x.n >= 10 && x.n <= 50).sort(byN(false)).map((x) => x.iid));
    // both: the items with the prefix, in the range, by value
    r = await query(g, `hash=${h('ap')}&sort=n&min=0&max=60&order=desc`);
    assert.deepEqual(ids(r), items.filter((x) => x.w.startsWith('ap') && x.n <= 60).sort(byN(true)).map((x) => x.iid));
    // an unknown name finds nothing
    r = await query(g, 'sort=other');
    assert.deepEqual(ids(r), []);
    // a search gives no ciphertext, as the list does
    r = await query(g, `word=${h('cherry')}`);
    assert.equal(r.json.result.items[0].data, undefined);
    assert.equal(r.json.result.items[0].author, member.id);
  });

  it('pages stay stable while items are written: nothing twice, nothing unchanged missed', async () => {
    const g = await s.group(owner);
    const common = hashes('common');
    const items = Array.from({ length: 25 }, (_, i) => ({ iid: id(), n: i % 5 }));
    for (const it of items) assert.equal((await put(g, it.iid, { data: 'x', hashes: [common], sortable: { n: it.n } })).status, 200);
    for (const [q, order] of [[`hash=${h('comm')}`, (a, b) => (a.iid < b.iid ? -1 : 1)],
      ['sort=n', (a, b) => a.n - b.n || (a.iid < b.iid ? -1 : 1)],
      ['sort=n&order=desc', (a, b) => b.n - a.n || (b.iid < a.iid ? -1 : 1)]]) {
      const seen = [];
      const added = [];
      let after = '';
      for (let page = 0; ; page++) {
        const r = await query(g, `${q}&limit=4${after ? `&after=${encodeURIComponent(after)}` : ''}`);
        assert.equal(r.status, 200, r.text);
        seen.push(...ids(r));
        // a write between pages: a new item in the middle of the order
        if (page < 3) {
          const it = { iid: id(), n: 2 };
          added.push(it.iid);
          assert.equal((await put(g, it.iid, { data: 'new', hashes: [common], sortable: { n: it.n } })).status, 200);
        }
        if (r.json.result.next === null) break;
        after = r.json.result.next;
      }
      assert.equal(new Set(seen).size, seen.length, `${q}: no item twice`);
      const expected = [...items].sort(order).map((x) => x.iid);
      assert.deepEqual(seen.filter((x) => !added.includes(x) && expected.includes(x)), expected, `${q}: every item, in order`);
      items.push(...added.map((iid) => ({ iid, n: 2 })));
    }
  });

  it('a replace replaces the hashes and values; a delete, and the group\'s delete, remove them', async () => {
    const g = await s.group(owner);
    const iid = id();
    assert.equal((await put(g, iid, { data: 'v1', hashes: [hashes('old')], sortable: { n: 5 } })).status, 200);
    assert.deepEqual(ids(await query(g, `word=${h('old')}`)), [iid]);
    assert.equal((await put(g, iid, { data: 'v2', hashes: [hashes('new')], sortable: { m: 7 } })).status, 200);
    assert.deepEqual(ids(await query(g, `word=${h('old')}`)), []);
    assert.deepEqual(ids(await query(g, `word=${h('new')}`)), [iid]);
    assert.deepEqual(ids(await query(g, 'sort=n')), []);
    assert.deepEqual(ids(await query(g, 'sort=m')), [iid]);
    // a replace without them drops them
    assert.equal((await put(g, iid, { data: 'v3' })).status, 200);
    assert.deepEqual(ids(await query(g, `word=${h('new')}`)), []);
    assert.equal(s.rows(`SELECT 1 FROM item_hashes WHERE item_id = '${iid}'`).length, 0);
    assert.equal((await put(g, iid, { data: 'v4', hashes: [hashes('again')], sortable: { n: 1 } })).status, 200);
    assert.equal((await s.api('DELETE', url(g, iid), { headers: owner.auth })).status, 200);
    assert.equal(s.rows(`SELECT 1 FROM item_hashes WHERE item_id = '${iid}'`).length, 0);
    assert.equal(s.rows(`SELECT 1 FROM item_sortables WHERE item_id = '${iid}'`).length, 0);
    assert.equal((await put(g, iid, { data: 'v5', hashes: [hashes('group')], sortable: { n: 1 } })).status, 200);
    assert.equal((await s.api('DELETE', `/api/v1/group/${g}`, { headers: owner.auth })).status, 200);
    assert.equal(s.rows(`SELECT 1 FROM item_hashes WHERE group_id = '${g}'`).length, 0);
    assert.equal(s.rows(`SELECT 1 FROM item_sortables WHERE group_id = '${g}'`).length, 0);
  });

  it('refuses bad hashes and values, and lists and values over the caps, storing nothing', async () => {
    const iid = id();
    const good = hashes('ok');
    const bad = [
      [{ hashes: 'x' }, 400], [{ hashes: [good[0]] }, 400], [{ hashes: [[]] }, 400], [{ hashes: [[5]] }, 400],
      [{ hashes: [['short']] }, 400], [{ hashes: [[`${good[0]}A`]] }, 400], [{ hashes: [[`${good[0].slice(0, 42)}+`]] }, 400],
      // base64url of 32 bytes ends in one of 16 characters: another is no such hash
      [{ hashes: [[`${good[0].slice(0, 42)}B`]] }, 400],
      [{ hashes: Array.from({ length: 17 }, () => good) }, 413],
      [{ hashes: [Array.from({ length: 201 }, () => good[0])] }, 413],
      [{ hashes: Array.from({ length: 6 }, () => Array.from({ length: 200 }, () => good[0])) }, 413],
      [{ sortable: [] }, 400], [{ sortable: { n: -1 } }, 400], [{ sortable: { n: 4294967295 } }, 400],
      [{ sortable: { n: 1.5 } }, 400], [{ sortable: { n: '12x' } }, 400], [{ sortable: { n: '' } }, 400],
      [{ sortable: { n: '-1' } }, 400], [{ sortable: { n: null } }, 400], [{ sortable: { 'a b': 1 } }, 400],
      [{ sortable: { ['x'.repeat(33)]: 1 } }, 400], [{ sortable: { '': 1 } }, 400],
      [{ sortable: { a: 1, b: 2, c: 3, d: 4, e: 5 } }, 413],
    ];
    for (const [extra, status] of bad) {
      const r = await put(gid, iid, { data: 'x', ...extra });
      assert.equal(r.status, status, JSON.stringify(extra).slice(0, 80));
      assert.equal(r.json.status, false);
      assert.equal(r.json.err_code, status === 400 ? 20034 : 20008, JSON.stringify(extra).slice(0, 80));
    }
    assert.equal(s.rows(`SELECT 1 FROM items WHERE item_id = '${iid}'`).length, 0);
    // the edges are taken: 16 lists, 200 a list, 1000 in all, 4 values, 0 and 4294967294
    const r = await put(gid, iid, {
      data: 'x',
      hashes: [...Array.from({ length: 5 }, (_, i) => hashes(`${i}`.repeat(200))), ...Array.from({ length: 11 }, () => [good[0]])].slice(0, 16),
      sortable: { a: 0, b: 4294967294, c: '4294967294', 'Z_-9': '0' },
    });
    assert.equal(r.status, 413, 'over 1000 in all');
    const ok = await put(gid, iid, {
      data: 'x',
      hashes: [...Array.from({ length: 4 }, (_, i) => hashes(`${i}`.repeat(200))), ...Array.from({ length: 12 }, () => [good[0]])],
      sortable: { a: 0, b: 4294967294, c: '4294967294', 'Z_-9': '0' },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ids(await query(gid, 'sort=b&min=4294967294')), [iid]);
    assert.deepEqual(ids(await query(gid, 'sort=Z_-9&max=0')), [iid]);
  });

  it('refuses malformed queries with 400, 20028', async () => {
    const x = h('x');
    for (const q of [`hash=${x}&word=${x}`, 'hash=nope', `word=${x}A`, 'sort=a%20b', `sort=${'x'.repeat(33)}`, 'min=1', `hash=${x}&order=desc`,
      'sort=n&min=-1', 'sort=n&max=4294967295', 'sort=n&min=5&max=4', 'sort=n&order=up', 'sort=n&min=1x',
      `sort=n&after=${id()}`, 'sort=n&after=5.nope', `sort=n&after=x.${id()}`, `hash=${x}&after=5.${id()}`,
      `hash=${x}&limit=0`, `hash=${x}&limit=1001`, `hash=${x}&hash=${x}`, 'sort=n&sort=n', `sort=n&min=1&min=2`]) {
      const r = await query(gid, q);
      assert.equal(r.status, 400, q);
      assert.equal(r.json.err_code, 20028, q);
    }
  });

  it('checks membership as every item route: sentc\'s 310 for a non-member, any member may search', async () => {
    const iid = id();
    assert.equal((await put(gid, iid, { data: 'x', hashes: [hashes('secret')] }, stranger)).json.err_code, 310);
    assert.equal(s.rows(`SELECT 1 FROM item_hashes WHERE item_id = '${iid}'`).length, 0);
    let r = await query(gid, `word=${h('secret')}`, stranger);
    assert.equal(r.status, 400);
    assert.equal(r.json.err_code, 310);
    r = await query(gid, 'sort=n', stranger);
    assert.equal(r.json.err_code, 310);
    assert.equal((await put(gid, iid, { data: 'x', hashes: [hashes('secret')] }, owner)).status, 200);
    r = await query(gid, `word=${h('secret')}`, member);
    assert.deepEqual(ids(r), [iid]);
    // another group's items are not found through this one
    const other = await s.group(stranger);
    r = await query(other, `word=${h('secret')}`, stranger);
    assert.deepEqual(ids(r), []);
  });

  it('answers 503 and stores nothing when the store fails', async () => {
    const iid = id();
    const undo = s.failWrites('item_hashes', 'INSERT');
    try {
      const r = await put(gid, iid, { data: 'x', hashes: [hashes('fail')] });
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.err_code, 20020);
    } finally { undo(); }
    assert.equal(s.rows(`SELECT 1 FROM items WHERE item_id = '${iid}'`).length, 0, 'the item went with its index');
  });
});

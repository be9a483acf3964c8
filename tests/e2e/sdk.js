'use strict';
/*
 * The sentc SDK's core, sentc_wasm (CommonJS build), in Node: the wasm
 * loaded synchronously, and the one thing its network functions need from a
 * browser (SENTC_API.md): they look for a Window to reach fetch, so
 * `globalThis instanceof Window` must hold.
 *
 * sent() lists the requests the SDK made (url, method, headers, body), as
 * fetch received them: what the SDK sends, before any server sees it; and
 * the answer each got (response: status, headers, Set-Cookie values,
 * text), which a browser would show the page's code. Node's fetch keeps
 * no cookies: a test sends the cookie itself, as a browser's jar would.
 */
const fs = require('node:fs');
const path = require('node:path');

const sdk = require('sentc_wasm');

sdk.initSync(fs.readFileSync(path.join(path.dirname(require.resolve('sentc_wasm')), 'sentc_wasm_bg.wasm')));

if (typeof globalThis.Window === 'undefined') {
  globalThis.Window = { [Symbol.hasInstance]: (o) => o === globalThis };
}

const requests = [];
const realFetch = globalThis.fetch;

globalThis.fetch = async function recordingFetch(input, init) {
  const req = new Request(input, init);
  const body = req.body === null ? null : await req.clone().text();
  const record = {
    url: req.url,
    method: req.method,
    headers: Object.fromEntries(req.headers),
    body,
    response: null,
  };
  requests.push(record);
  const res = await realFetch(req);
  record.response = {
    status: res.status,
    headers: Object.fromEntries(res.headers),
    setCookie: res.headers.getSetCookie(),
    text: await res.clone().text(),
  };
  return res;
};

/* The requests the SDK sent since the last call to forget(). */
function sent() {
  return requests.slice();
}

function forget() {
  requests.length = 0;
}

/*
 * What a done_* function or a network function threw: the SDK throws a
 * JSON string {"status": "server_<code>" | "client_<code>", "error_message"}.
 */
function sdkError(e) {
  if (typeof e !== 'string') throw e;
  return JSON.parse(e);
}

module.exports = { sdk, sent, forget, sdkError };

'use strict';
/*
 * A FastCGI client on a program's socket, without nginx, for the tests of
 * how programs treat connections: requests with or without FCGI_KEEP_CONN,
 * several on one connection, connections held open.
 */
const net = require('node:net');
const { WAIT_MS } = require('../lib/common');

const BEGIN = 1;
const END = 3;
const PARAMS = 4;
const STDIN = 5;
const STDOUT = 6;
const KEEP_CONN = 1;

function record(type, content = Buffer.alloc(0)) {
  const out = [];
  // A record holds at most 65535 bytes: longer content is split.
  for (let off = 0; off === 0 || off < content.length; off += 65535) {
    const part = content.subarray(off, off + 65535);
    const h = Buffer.alloc(8);
    h.writeUInt8(1, 0);
    h.writeUInt8(type, 1);
    h.writeUInt16BE(1, 2); // request id 1, as nginx uses
    h.writeUInt16BE(part.length, 4);
    out.push(h, part);
    if (content.length === 0) break;
  }
  return Buffer.concat(out);
}

function nameValue(name, value) {
  const len = (n) => (n < 128 ? Buffer.from([n]) : Buffer.from([(n >>> 24) | 0x80, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]));
  const n = Buffer.from(name);
  const v = Buffer.from(value);
  return Buffer.concat([len(n.length), len(v.length), n, v]);
}

/* The bytes of one request: params (REQUEST_METHOD, REQUEST_URI, HTTP_*), then the body. */
function encode({ method = 'GET', uri, headers = {}, body, keep = true }) {
  const b = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  const params = { REQUEST_METHOD: method, REQUEST_URI: uri, QUERY_STRING: '', ...headers };
  if (body !== undefined) {
    params.CONTENT_LENGTH = String(b.length);
    params.CONTENT_TYPE = 'application/json';
  }
  const begin = Buffer.alloc(8);
  begin.writeUInt16BE(1, 0); // responder
  begin.writeUInt8(keep ? KEEP_CONN : 0, 2);
  return Buffer.concat([
    record(BEGIN, begin),
    record(PARAMS, Buffer.concat(Object.entries(params).map(([k, v]) => nameValue(k, v)))),
    record(PARAMS),
    ...(b.length > 0 ? [record(STDIN, b)] : []),
    record(STDIN),
  ]);
}

/* A connection to a program's socket. */
class Conn {
  constructor(sock) {
    this.socket = net.connect(sock);
    this.buf = Buffer.alloc(0);
    this.waiting = null;
    this.closed = false;
    this.socket.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.poke(); });
    this.socket.on('close', () => { this.closed = true; this.poke(); });
    this.socket.on('error', () => {});
  }

  connected() {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
  }

  poke() {
    if (this.waiting) this.waiting();
  }

  /* Parses one whole answer (up to END_REQUEST) from the buffer, or null: its status, header lines, body. */
  parse() {
    let off = 0;
    let out = Buffer.alloc(0);
    while (this.buf.length - off >= 8) {
      const type = this.buf.readUInt8(off + 1);
      const len = this.buf.readUInt16BE(off + 4);
      const pad = this.buf.readUInt8(off + 6);
      if (this.buf.length - off < 8 + len + pad) return null;
      const content = this.buf.subarray(off + 8, off + 8 + len);
      off += 8 + len + pad;
      if (type === STDOUT) out = Buffer.concat([out, content]);
      if (type === END) {
        this.buf = this.buf.subarray(off);
        const text = out.toString();
        const sep = text.indexOf('\r\n\r\n');
        const head = text.slice(0, sep);
        const status = Number((/^Status: (\d+)/m.exec(head) || [])[1] || 200);
        const body = text.slice(sep + 4);
        let json;
        try { json = JSON.parse(body); } catch { json = undefined; }
        return { status, head, body, json };
      }
    }
    return null;
  }

  /* Sends a request; resolves its answer, or rejects after ms (WAIT_MS). */
  async request(req, ms = WAIT_MS) {
    this.socket.write(encode(req));
    return this.answer(ms);
  }

  answer(ms = WAIT_MS) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiting = null; reject(new Error(`no answer within ${ms} ms`)); }, ms);
      this.waiting = () => {
        const a = this.parse();
        if (a || this.closed) {
          clearTimeout(timer);
          this.waiting = null;
          if (a) resolve(a); else reject(new Error('connection closed without an answer'));
        }
      };
      this.waiting();
    });
  }

  /* Resolves true once the program closed the connection, false after ms (WAIT_MS). */
  closedWithin(ms = WAIT_MS) {
    return new Promise((resolve) => {
      if (this.closed) { resolve(true); return; }
      const timer = setTimeout(() => resolve(false), ms);
      this.socket.once('close', () => { clearTimeout(timer); resolve(true); });
    });
  }

  end() {
    this.socket.destroy();
  }
}

module.exports = { Conn, encode };

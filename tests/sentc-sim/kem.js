'use strict';
/*
 * What sentc's server encrypts to a device's public key: the login challenge of done_login
 * (sentc-api auth_service.rs prepare_done_login → sentc-crypto util/server.rs
 * encrypt_login_verify_challenge → the key's Pk::encrypt in sentc-crypto-std-keys, the keys
 * sentc_wasm 0.15.0 makes). Two algorithms, by the device's keypair_encrypt_alg:
 *
 *   ECIES-ed25519            X25519 with a fresh ephemeral key, HKDF-SHA256 (no salt, info
 *                            "ecies-ed25519") to an AES-256-GCM key:
 *                            ephemeral public key (32) || nonce (12) || ciphertext || tag (16)
 *   ECIES-ed25519_KYBER_768  the ECIES output above encrypted once more, under the shared secret
 *                            of Kyber-768 (round 3, "90s" variant, as the pqc_kyber crate builds
 *                            with its feature 90s-fixslice):
 *                            Kyber ciphertext (1088) || nonce (12) || ciphertext || tag (16)
 *
 * The public key is the SDK's export: for ECIES a PEM-armoured base64 of the 32 raw bytes, for
 * the hybrid the JSON {"x": <that PEM>, "k": <PEM of the 1184-byte Kyber key>}.
 *
 * Node's crypto does the X25519, HKDF, AES-GCM, AES-CTR and SHA-2 steps. It has no Kyber (Node 20
 * has no KEM at all, and the ML-KEM of later versions is FIPS 203, whose key derivation differs
 * from round-3 Kyber's), so the lattice part of Kyber's encapsulation is written out below, from
 * the round-3 specification (CRYSTALS-Kyber v3.02, sections 1.1 and 5) with the 90s symmetric
 * primitives: H = SHA-256, G = SHA-512, KDF = SHA-256, XOF and PRF = AES-256-CTR. Only the
 * encapsulation is needed; it is checked end to end by the SDK decrypting the challenge.
 */
const crypto = require('node:crypto');

const Q = 3329;
const N = 256;
const KYBER_K = 3;
const DU = 10;
const DV = 4;
const KYBER_PK_BYTES = KYBER_K * 384 + 32; // 1184
const X25519_BYTES = 32;

const ECIES_ALG = 'ECIES-ed25519';
const HYBRID_ALG = 'ECIES-ed25519_KYBER_768';

const mod = (x) => ((x % Q) + Q) % Q;

function powmod(base, exp) {
  let r = 1;
  let b = base % Q;
  for (let e = exp; e > 0; e >>= 1) {
    if (e & 1) r = (r * b) % Q;
    b = (b * b) % Q;
  }
  return r;
}

const bitrev7 = (i) => {
  let r = 0;
  for (let b = 0; b < 7; b++) r |= ((i >> b) & 1) << (6 - b);
  return r;
};

// 17 is a primitive 256th root of unity mod q.
const ZETAS = Array.from({ length: 128 }, (_, i) => powmod(17, bitrev7(i)));
const GAMMAS = Array.from({ length: 128 }, (_, i) => powmod(17, 2 * bitrev7(i) + 1));
const N_INV = 3303; // 128^-1 mod q

function ntt(f) {
  const a = f.slice();
  let k = 1;
  for (let len = 128; len >= 2; len >>= 1) {
    for (let start = 0; start < N; start += 2 * len) {
      const zeta = ZETAS[k++];
      for (let j = start; j < start + len; j++) {
        const t = (zeta * a[j + len]) % Q;
        a[j + len] = mod(a[j] - t);
        a[j] = (a[j] + t) % Q;
      }
    }
  }
  return a;
}

function invNtt(f) {
  const a = f.slice();
  let k = 127;
  for (let len = 2; len <= 128; len <<= 1) {
    for (let start = 0; start < N; start += 2 * len) {
      const zeta = ZETAS[k--];
      for (let j = start; j < start + len; j++) {
        const t = a[j];
        a[j] = (t + a[j + len]) % Q;
        a[j + len] = (zeta * mod(a[j + len] - t)) % Q;
      }
    }
  }
  return a.map((x) => (x * N_INV) % Q);
}

/* The product of two polynomials in the NTT domain: 128 products of degree-one pieces. */
function mulNtt(f, g) {
  const h = new Array(N);
  for (let i = 0; i < 128; i++) {
    const [a0, a1, b0, b1] = [f[2 * i], f[2 * i + 1], g[2 * i], g[2 * i + 1]];
    h[2 * i] = (a0 * b0 + ((a1 * b1) % Q) * GAMMAS[i]) % Q;
    h[2 * i + 1] = (a0 * b1 + a1 * b0) % Q;
  }
  return h;
}

const addPoly = (f, g) => f.map((x, i) => (x + g[i]) % Q);

/* Little-endian bit packing of values of d bits each (the specification's Encode_d / Decode_d). */
function encodeBits(values, d) {
  const out = Buffer.alloc((values.length * d) / 8);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const v of values) {
    acc |= v << bits;
    bits += d;
    while (bits >= 8) {
      out[o++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  return out;
}

function decodeBits(bytes, d) {
  const out = [];
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc |= byte << bits;
    bits += 8;
    while (bits >= d) {
      out.push(acc & ((1 << d) - 1));
      acc >>>= d;
      bits -= d;
    }
  }
  return out;
}

const compress = (x, d) => Math.floor((x * (1 << d) + (Q >> 1)) / Q) & ((1 << d) - 1);

/* AES-256-CTR key stream: key, a 16-byte counter block of nonce bytes then zeros (the 90s XOF
 * and PRF: the nonce in its first bytes, a 32-bit big-endian block counter from 0 at its end). */
function aesCtrStream(key, nonce, length) {
  const iv = Buffer.alloc(16);
  Buffer.from(nonce).copy(iv);
  const c = crypto.createCipheriv('aes-256-ctr', key, iv);
  return Buffer.concat([c.update(Buffer.alloc(length)), c.final()]);
}

/* Parse: uniform coefficients below q, two from each three bytes of the XOF(rho, i, j) stream. */
function sampleUniform(rho, i, j) {
  const out = [];
  let stream = Buffer.alloc(0);
  let pos = 0;
  while (out.length < N) {
    if (pos + 3 > stream.length) stream = aesCtrStream(rho, [i, j], stream.length + 576);
    const [b0, b1, b2] = [stream[pos], stream[pos + 1], stream[pos + 2]];
    pos += 3;
    const d1 = b0 | ((b1 & 0x0f) << 8);
    const d2 = (b1 >> 4) | (b2 << 4);
    if (d1 < Q) out.push(d1);
    if (d2 < Q && out.length < N) out.push(d2);
  }
  return out;
}

/* CBD with eta = 2 (Kyber-768's eta1 and eta2) of PRF(s, nonce): 128 bytes, 4 bits a coefficient. */
function sampleNoise(s, nonce) {
  const buf = aesCtrStream(s, [nonce], 128);
  const out = new Array(N);
  for (let i = 0; i < N / 8; i++) {
    const t = buf.readUInt32LE(4 * i);
    const d = ((t & 0x55555555) >>> 0) + ((t >>> 1) & 0x55555555);
    for (let j = 0; j < 8; j++) {
      const a = (d >>> (4 * j)) & 3;
      const b = (d >>> (4 * j + 2)) & 3;
      out[8 * i + j] = mod(a - b);
    }
  }
  return out;
}

/* Kyber.CPAPKE.Enc(pk, m, coins): the ciphertext, 1088 bytes. */
function cpaEncrypt(pk, m, coins) {
  const tHat = [];
  for (let i = 0; i < KYBER_K; i++) tHat.push(decodeBits(pk.subarray(384 * i, 384 * (i + 1)), 12).map((x) => x % Q));
  const rho = pk.subarray(384 * KYBER_K);
  let nonce = 0;
  const r = [];
  for (let i = 0; i < KYBER_K; i++) r.push(ntt(sampleNoise(coins, nonce++)));
  const e1 = [];
  for (let i = 0; i < KYBER_K; i++) e1.push(sampleNoise(coins, nonce++));
  const e2 = sampleNoise(coins, nonce++);

  const u = [];
  for (let i = 0; i < KYBER_K; i++) {
    // Row i of A transposed: A[j][i] = Parse(XOF(rho, i, j)).
    let acc = new Array(N).fill(0);
    for (let j = 0; j < KYBER_K; j++) acc = addPoly(acc, mulNtt(sampleUniform(rho, i, j), r[j]));
    u.push(addPoly(invNtt(acc), e1[i]));
  }
  let acc = new Array(N).fill(0);
  for (let j = 0; j < KYBER_K; j++) acc = addPoly(acc, mulNtt(tHat[j], r[j]));
  const mPoly = decodeBits(m, 1).map((bit) => bit * ((Q + 1) / 2));
  const v = addPoly(addPoly(invNtt(acc), e2), mPoly);

  return Buffer.concat([
    ...u.map((p) => encodeBits(p.map((x) => compress(x, DU)), DU)),
    encodeBits(v.map((x) => compress(x, DV)), DV),
  ]);
}

const sha256 = (...parts) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
const sha512 = (...parts) => crypto.createHash('sha512').update(Buffer.concat(parts)).digest();

/* Kyber.CCAKEM.Enc(pk): {ciphertext, shared secret (32 bytes)}. */
function kyberEncapsulate(pk) {
  const m = sha256(crypto.randomBytes(32));
  const kr = sha512(m, sha256(pk));
  const ciphertext = cpaEncrypt(pk, m, kr.subarray(32));
  return { ciphertext, secret: sha256(kr.subarray(0, 32), sha256(ciphertext)) };
}

/* sentc's raw AES-256-GCM: nonce (12) || ciphertext || tag (16). */
function aesGcmSeal(key, data) {
  const nonce = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([c.update(data), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

function eciesEncrypt(x25519Public, data) {
  const receiver = crypto.createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: x25519Public.toString('base64url') }, format: 'jwk',
  });
  const eph = crypto.generateKeyPairSync('x25519');
  const shared = crypto.diffieHellman({ privateKey: eph.privateKey, publicKey: receiver });
  const key = Buffer.from(crypto.hkdfSync('sha256', shared, Buffer.alloc(0), Buffer.from('ecies-ed25519'), 32));
  const ephRaw = Buffer.from(eph.publicKey.export({ format: 'jwk' }).x, 'base64url');
  return Buffer.concat([ephRaw, aesGcmSeal(key, data)]);
}

/* The raw bytes of one PEM-armoured key as the SDK exports it; throws on anything else. */
function pemBytes(text) {
  const m = /^-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/=\n]+)\n-----END PUBLIC KEY-----\n?$/.exec(text);
  if (!m) throw new Error('not a PEM public key');
  return Buffer.from(m[1].replace(/\n/g, ''), 'base64');
}

/*
 * Encrypts data to a device's public key (the text the SDK registered) of algorithm alg.
 * Returns the ciphertext; throws Error if the algorithm is not one of the two or the key does
 * not decode (sentc then answers its error for a challenge it cannot make).
 */
function encryptToPublicKey(publicKey, alg, data) {
  if (alg === ECIES_ALG) {
    const x = pemBytes(publicKey);
    if (x.length !== X25519_BYTES) throw new Error('not an X25519 key');
    return eciesEncrypt(x, data);
  }
  if (alg === HYBRID_ALG) {
    const parsed = JSON.parse(publicKey);
    if (parsed === null || typeof parsed.x !== 'string' || typeof parsed.k !== 'string') {
      throw new Error('not a hybrid key');
    }
    const x = pemBytes(parsed.x);
    const k = pemBytes(parsed.k);
    if (x.length !== X25519_BYTES || k.length !== KYBER_PK_BYTES) throw new Error('wrong key sizes');
    const inner = eciesEncrypt(x, data);
    const { ciphertext, secret } = kyberEncapsulate(k);
    return Buffer.concat([ciphertext, aesGcmSeal(secret, inner)]);
  }
  throw new Error(`no such algorithm ${alg}`);
}

module.exports = { encryptToPublicKey, ECIES_ALG, HYBRID_ALG };

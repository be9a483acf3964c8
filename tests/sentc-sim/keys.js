'use strict';
/*
 * Test helper: a fresh JWT key pair in the formats the sentc dashboard hands out.
 *   signKeyB64   base64 (standard alphabet) of the PKCS#8 DER P-384 private key (SENTC_JWT_SIGN_KEY)
 *   verifyKeyB64 base64 of the raw uncompressed point 0x04 || X || Y, 97 bytes (SENTC_JWT_VERIFY_KEY)
 *   kid          a key id (UUID, as the server makes them)
 */

const crypto = require('node:crypto');

function rawPointB64(publicKey) {
  const jwk = publicKey.export({ format: 'jwk' });
  return Buffer.concat([
    Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url'),
  ]).toString('base64');
}

function genKeyEnv() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
  return {
    signKeyB64: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    verifyKeyB64: rawPointB64(publicKey),
    kid: crypto.randomUUID(),
  };
}

module.exports = { genKeyEnv, rawPointB64 };

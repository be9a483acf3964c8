'use strict';
/*
 * Test helper: a register input of today's shape (sentc-common RegisterData, what sentc_wasm
 * 0.15.0's prepare_register makes: the device's keys, and the user group's CreateData with its
 * hmac and sortable keys and its sign keys) for the identifier name, with stand-ins for the key
 * material. sentc stores those strings without reading them, so the user registers, and the
 * simulator hands out sessions for it (POST /__sim/session); only a login needs real keys (the
 * SDK's own prepare_register). The same name gives the same body.
 */
const crypto = require('node:crypto');

function registerInput(name) {
  /* Standard base64 of n bytes that stand in for the key `what` of this name. */
  const b64 = (n, what) => {
    let out = Buffer.alloc(0);
    for (let i = 0; out.length < n; i++) {
      out = Buffer.concat([out, crypto.createHash('sha256').update(`${what} ${i} ${name}`).digest()]);
    }
    return out.subarray(0, n).toString('base64');
  };
  return {
    device: {
      master_key: {
        master_key_alg: 'AES-GCM-256',
        encrypted_master_key: b64(60, 'encrypted_master_key'),
        encrypted_master_key_alg: 'AES-GCM-256',
      },
      derived: {
        derived_alg: 'ARGON-2-SHA256',
        client_random_value: b64(16, 'client_random_value'),
        hashed_authentication_key: b64(16, 'hashed_authentication_key'),
        public_key: 'stand-in public key',
        encrypted_private_key: b64(48, 'encrypted_private_key'),
        keypair_encrypt_alg: 'ECIES-ed25519_KYBER_768',
        verify_key: 'stand-in verify key',
        encrypted_sign_key: b64(48, 'encrypted_sign_key'),
        keypair_sign_alg: 'ED25519_DILITHIUM_3',
      },
      device_identifier: name,
    },
    group: {
      encrypted_group_key: b64(48, 'encrypted_group_key'),
      group_key_alg: 'AES-GCM-256',
      encrypted_group_key_alg: 'ECIES-ed25519_KYBER_768',
      encrypted_private_group_key: b64(48, 'encrypted_private_group_key'),
      public_group_key: 'stand-in group public key',
      keypair_encrypt_alg: 'ECIES-ed25519_KYBER_768',
      creator_public_key_id: 'non_registered',
      encrypted_hmac_key: b64(60, 'encrypted_hmac_key'),
      encrypted_hmac_alg: 'HMAC-SHA256',
      encrypted_sortable_key: b64(44, 'encrypted_sortable_key'),
      encrypted_sortable_alg: 'OPE-16',
      encrypted_sign_key: b64(48, 'group_encrypted_sign_key'),
      verify_key: 'stand-in group verify key',
      keypair_sign_alg: 'ED25519_DILITHIUM_3',
      public_key_sig: 'stand-in signature',
    },
  };
}

module.exports = { registerInput };

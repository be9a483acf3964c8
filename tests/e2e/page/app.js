/*
 * A browser app wired to sentc-backend, as the README shows it: the SDK's
 * core, sentc_wasm's web build (sentc_wasm.js, its .wasm beside it), on
 * the backend's origin, the backend as base_url, the refresh token in the
 * backend's cookie. Where the JS SDK (@sentclose/sentc, Sentc.ts) adds
 * behaviour of its own, such as the cookie mode's refresh call, the app
 * does what it does. The tests call window.app.* from headless Chromium.
 */
import init, {
  decode_jwt,
  done_check_user_identifier_available,
  done_register,
  login,
  mfa_login,
  prepare_check_user_identifier_available,
  prepare_register,
} from '/sentc_wasm/sentc_wasm.js';

await init();

let options = null;

/* What a login gives the page: the SDK's getters, read. */
function userOf(out) {
  return {
    user_id: out.get_id(),
    device_id: out.get_device_id(),
    jwt: out.get_jwt(),
    refresh_token: out.get_refresh_token(),
    user_keys: out.get_user_keys().length,
  };
}

window.app = {
  /*
   * The options Sentc.init takes, with the backend as base_url and the
   * cookie refresh mode; backend is the backend's origin (this page's own
   * by default).
   */
  init(appToken, backend = location.origin) {
    options = {
      app_token: appToken,
      base_url: backend,
      refresh: {
        endpoint: 0, /* REFRESH_ENDPOINT.cookie */
        endpoint_url: backend === location.origin ? '/backend/refresh' : `${backend}/backend/refresh`,
      },
    };
    return options;
  },

  /*
   * Registers through the backend: the SDK prepares the input, the app
   * adds its own user_data and posts it, the SDK checks the answer.
   * Returns the new user id; throws what done_register throws.
   */
  async register(name, password, userData) {
    const input = JSON.parse(prepare_register(name, password));
    input.user_data = userData;
    const res = await fetch('/api/v1/register', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(input),
    });
    return done_register(await res.text());
  },

  /*
   * The SDK's own login() against base_url. A user with a second factor
   * gets {mfa: true} and the keys mfa_login() needs, kept in the page.
   */
  async login(name, password) {
    const out = await login(options.base_url, options.app_token, name, password);
    if (out.get_jwt() === undefined) {
      this.pending = { name, master: out.get_mfa_master_key(), auth: out.get_mfa_auth_key() };
      return { mfa: true };
    }
    return userOf(out);
  },

  /* The SDK's mfa_login() for the login pending: a TOTP code, or a recovery key. */
  async mfaLogin(token, recovery) {
    const p = this.pending;
    return userOf(await mfa_login(options.base_url, options.app_token, p.master, p.auth, p.name, token, recovery));
  },

  /* The user's own data, with the JWT the SDK holds after a login. */
  async me(jwt) {
    const res = await fetch('/backend/me', {
      headers: { Authorization: `Bearer ${jwt}` },
    });
    return { status: res.status, body: await res.json() };
  },

  /*
   * For a login made elsewhere: the refresh token goes to the backend,
   * which keeps it in its HttpOnly cookie; the answer carries the user's
   * own data.
   */
  async session(jwt, refreshToken) {
    const res = await fetch('/backend/session', {
      method: 'POST',
      headers: { Authorization: `Bearer ${jwt}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: refreshToken }),
    });
    return { status: res.status, body: await res.json() };
  },

  /*
   * What Sentc.refreshJwt does in the cookie mode (Sentc.ts): GET
   * endpoint_url with the old JWT, credentials included, and the whole
   * answer's text as the new JWT, whatever its status.
   */
  async refresh(oldJwt) {
    const res = await fetch(options.refresh.endpoint_url, {
      method: 'GET',
      credentials: 'include',
      headers: { Authorization: `Bearer ${oldJwt}` },
    });
    return res.text();
  },

  async logout() {
    const res = await fetch('/backend/logout', { method: 'POST' });
    return { status: res.status, body: await res.json() };
  },

  /* The SDK's own decode_jwt, which the JS SDK runs before each use of a JWT. */
  decode(jwt) {
    const c = decode_jwt(jwt);
    return { aud: c.get_aud(), sub: c.get_sub(), exp: c.get_exp(), iat: c.get_iat(), fresh: c.get_fresh() };
  },

  /* The cookies page scripts can see. */
  cookies() {
    return document.cookie;
  },

  /*
   * A route the backend does not serve: straight through to sentc. As
   * Sentc.checkUserIdentifierAvailable makes the call (sentc_wasm 0.15.0
   * prepares the body and reads the answer).
   */
  async available(name) {
    const res = await fetch(`${options.base_url}/api/v1/exists`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-sentc-app-token': options.app_token },
      body: prepare_check_user_identifier_available(name),
    });
    return done_check_user_identifier_available(await res.text());
  },
};

document.documentElement.dataset.ready = 'yes';

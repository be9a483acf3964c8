/*
 * A browser app wired to sentc-backend, as the README shows it: the SDK's
 * bundle (sentc.min.js, its .wasm beside it) on the backend's origin, the
 * backend as base_url, the refresh token in the backend's cookie.
 * The tests call window.app.* from headless Chromium.
 */
'use strict';

const Sentc = window.Sentc.default;

window.app = {
  /*
   * Sentc.init with the backend as base_url and the cookie refresh mode;
   * backend is the backend's origin (this page's own by default).
   */
  async init(appToken, backend = location.origin) {
    await Sentc.init({
      app_token: appToken,
      base_url: backend,
      refresh: {
        endpoint: 0,  /* REFRESH_ENDPOINT.cookie */
        endpoint_url: backend === location.origin ? '/backend/refresh' : `${backend}/backend/refresh`,
      },
    });
    return Sentc.options;
  },

  /*
   * Registers through the backend: the SDK prepares the input, the app
   * adds its own user_data and posts it, the SDK checks the answer.
   * Returns the new user id; throws what doneRegister throws.
   */
  async register(name, password, userData) {
    const input = JSON.parse(Sentc.prepareRegister(name, password));
    input.user_data = userData;
    const res = await fetch('/api/v1/register', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(input),
    });
    return Sentc.doneRegister(await res.text());
  },

  /* The user's own data, with the JWT the SDK holds after a login. */
  async me(jwt) {
    const res = await fetch('/backend/me', {
      headers: { Authorization: `Bearer ${jwt}` },
    });
    return { status: res.status, body: await res.json() };
  },

  /*
   * Right after a login: the refresh token goes to the backend, which keeps
   * it in its HttpOnly cookie; the answer carries the user's own data.
   */
  async session(jwt, refreshToken) {
    const res = await fetch('/backend/session', {
      method: 'POST',
      headers: { Authorization: `Bearer ${jwt}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: refreshToken }),
    });
    return { status: res.status, body: await res.json() };
  },

  /* What the SDK does when the JWT is about to expire, in the cookie mode. */
  async refresh(oldJwt) {
    return Sentc.refreshJwt(oldJwt, '');
  },

  async logout() {
    const res = await fetch('/backend/logout', { method: 'POST' });
    return { status: res.status, body: await res.json() };
  },

  /*
   * The SDK's own decode_jwt, from sentc_wasm, the module the bundle is
   * built on (and whose decode_jwt the SDK runs before each use of a JWT).
   */
  async decode(jwt) {
    const wasm = await import('/e2e/sentc_wasm/sentc_wasm.js');
    await wasm.default('/e2e/sentc_wasm/sentc_wasm_bg.wasm');
    const c = wasm.decode_jwt(jwt);
    return {
      aud: c.get_aud(), sub: c.get_sub(), exp: c.get_exp(), iat: c.get_iat(), fresh: c.get_fresh(),
      internal_user_id: c.get_internal_user_id(), device_id: c.get_device_id(),
    };
  },

  /* The cookies page scripts can see. */
  cookies() {
    return document.cookie;
  },

  /* A route the backend does not serve: straight through to sentc. */
  async available(name) {
    return Sentc.checkUserIdentifierAvailable(name);
  },
};

document.documentElement.dataset.ready = 'yes';

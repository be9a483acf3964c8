/*
 * A browser app wired to sentc-backend, as the README shows it: the SDK's
 * bundle (sentc.min.js, its .wasm beside it) on the backend's origin, the
 * backend as base_url, the refresh token in the backend's cookie.
 * The tests call window.app.* from headless Chromium.
 */
'use strict';

const Sentc = window.Sentc.default;

window.app = {
  /* Sentc.init with the backend as base_url and the cookie refresh mode. */
  async init(appToken) {
    await Sentc.init({
      app_token: appToken,
      base_url: location.origin,
      refresh: {
        endpoint: 0,  /* REFRESH_ENDPOINT.cookie */
        endpoint_url: '/backend/refresh',
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

  /* A route the backend does not serve: straight through to sentc. */
  async available(name) {
    return Sentc.checkUserIdentifierAvailable(name);
  },
};

document.documentElement.dataset.ready = 'yes';

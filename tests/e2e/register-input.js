#!/usr/bin/env node
'use strict';
/*
 * Prints the register input the SDK makes (sentc_wasm's prepare_register)
 * for a name and a password, with an app's user_data added if given: the
 * body of POST /api/v1/register, for shell examples (README.md, docs/ROUTES.md).
 *
 *   node tests/e2e/register-input.js NAME PASSWORD [USER_DATA_JSON]
 */
const { sdk } = require('./sdk');

const [name, password, userData] = process.argv.slice(2);
if (!name || !password) {
  process.stderr.write('usage: node tests/e2e/register-input.js NAME PASSWORD [USER_DATA_JSON]\n');
  process.exit(2);
}
const input = JSON.parse(sdk.prepare_register(name, password));
if (userData !== undefined) input.user_data = JSON.parse(userData);
process.stdout.write(JSON.stringify(input));

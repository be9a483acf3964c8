'use strict';
/*
 * Headless Chromium from Debian (/usr/bin/chromium), driven by
 * playwright-core: no browser is downloaded. Each launch gets a fresh
 * profile directory, removed again by close().
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { WAIT_MS } = require('../lib/common');

const CHROMIUM = process.env.SB_CHROMIUM || '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/*
 * Launches the browser. Returns {context, errors, close}: errors collects
 * every uncaught page error, to be asserted empty.
 */
async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-chromium-'));
  let context;
  try {
    // Playwright passes the profile as --user-data-dir.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: FLAGS,
      timeout: WAIT_MS,
    });
    // Every wait of Playwright's (a page load, a selector, a function) as long as any other wait.
    context.setDefaultTimeout(WAIT_MS);
    context.setDefaultNavigationTimeout(WAIT_MS);
  } catch (e) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const errors = [];
  context.on('weberror', (e) => errors.push(e.error().message));
  return {
    context,
    errors,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/* Opens url in a new page and waits until the app's script has run. */
async function open(browser, url) {
  const page = await browser.context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => document.documentElement.dataset.ready === 'yes');
  return page;
}

module.exports = { launch, open };

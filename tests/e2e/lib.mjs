// Shared by the console's end-to-end tests: the browser, pages that record console errors,
// screenshots, the admin API with the root key, and signing in. `./run` starts the gateway
// and passes its address and root key in the environment.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the console tests through tests/e2e/run`);
  return v;
}

export const BASE = need('E2E_BASE_URL');
export const ROOT_KEY = need('E2E_ROOT_KEY');
export const SHOTS = process.env.E2E_SCREENSHOTS || 'screenshots';
mkdirSync(SHOTS, { recursive: true });

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
// Generous: CI machines are small and the gateway, the simulator and Chromium share them.
export const ACTION_TIMEOUT = 20_000;

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
    timeout: 60_000,
  });
}

// Chromium logs every non-2xx fetch as a console error. These answers are the console
// working as designed: the session probe of a signed-out browser, a refused sign-in.
const EXPECTED = [
  { url: /\/api\/auth\/session$/, text: /status of 401/ },
  { url: /\/api\/auth\/login$/, text: /status of 401/ },
];

/**
 * A fresh browser context (own cookies and localStorage) and page. Every console error and
 * uncaught page error lands in `page.errors`; `assertNoErrors(page)` fails on any.
 */
export async function newPage(browser, { viewport = DESKTOP, lang = 'en' } = {}) {
  const context = await browser.newContext({ viewport, locale: lang === 'zh' ? 'zh-CN' : 'en-US', baseURL: BASE });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  // The console remembers the language in localStorage; start every context in English.
  await context.addInitScript((l) => { if (!localStorage.getItem('sy.lang')) localStorage.setItem('sy.lang', l); }, lang);
  const page = await context.newPage();
  // Requests in flight, so screenshots can wait for a page's data (see settle()).
  page.inflight = 0;
  page.on('request', () => { page.inflight++; });
  for (const ev of ['requestfinished', 'requestfailed']) page.on(ev, () => { page.inflight--; });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}\n${e.stack || ''}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location()?.url || '';
    if (EXPECTED.some((x) => x.url.test(url) && x.text.test(m.text()))) return;
    page.errors.push(`console.error: ${m.text()} (${url})`);
  });
  return page;
}

export function assertNoErrors(page, what = 'the page') {
  assert.deepEqual(page.errors, [], `${what} logged errors:\n${page.errors.join('\n')}`);
}

/**
 * Wait (at most `timeout` ms, never failing) until no request has been in flight for a
 * moment: pages fetch their data after drawing their heading. A hash change is not a
 * navigation, so Playwright's own load states do not cover it.
 */
export async function settle(page, timeout = 5000) {
  const end = Date.now() + timeout;
  let quiet = 0;
  while (Date.now() < end && quiet < 3) {
    quiet = page.inflight <= 0 ? quiet + 1 : 0;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A full-page screenshot in target/e2e-screenshots/NAME.png. */
export async function shot(page, name) {
  // Let data, fonts, charts and transitions settle so screenshots are comparable run to run.
  await settle(page);
  await page.evaluate(() => document.fonts?.ready).catch(() => {});
  await page.screenshot({ path: join(SHOTS, name + '.png'), fullPage: true, animations: 'disabled' });
}

/** The admin API with a key (root's by default): JSON in, JSON out, non-2xx throws. */
export async function api(path, { method = 'GET', body, key = ROOT_KEY } = {}) {
  const res = await fetch(BASE + '/api' + path, {
    method,
    headers: { authorization: 'Bearer ' + key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} /api${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Sign in through the form with an API key (the fast way in for tests about other things). */
export async function signInWithKey(page, key = ROOT_KEY) {
  await page.goto('/');
  await page.getByRole('button', { name: 'Sign in with an API key' }).click();
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('navigation', { name: 'Main navigation' }).waitFor();
}

/** Sign in through the form with a username and password. */
export async function signInWithPassword(page, username, password) {
  await page.goto('/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('navigation', { name: 'Main navigation' }).waitFor();
}

/** Follow a link in the main navigation and wait for the page's heading. */
export async function openPage(page, label, heading = label) {
  await page.getByRole('navigation', { name: /Main navigation|主导航/ }).getByRole('link', { name: label, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** Poll `fn` until it returns something truthy; its last error or value explains a timeout. */
export async function until(fn, { timeout = ACTION_TIMEOUT, every = 250, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}: ${last?.message ?? JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

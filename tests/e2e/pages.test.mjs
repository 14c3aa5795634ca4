// Every page of the console, as root and as a plain user, on a desktop and a phone: each
// renders its heading without console or page errors, and leaves a screenshot in
// target/e2e-screenshots/. Also: signing in with an API key, and the phone menu.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, PHONE, ROOT_KEY, api, assertNoErrors, launch, newPage, settle, shot, signInWithKey, signInWithPassword, until,
} from './lib.mjs';

const STEP = { timeout: 90_000 };
const USER = { name: 'e2e-user', password: 'e2e user password 1' };
// Pages only admins see; a plain user's navigation must not offer them.
const ADMIN_ONLY = ['Channels', 'Users'];

/** The main navigation's links as [label, hash path]. */
async function navLinks(page) {
  const nav = page.getByRole('navigation', { name: 'Main navigation' });
  await nav.waitFor();
  return nav.getByRole('link').evaluateAll((links) => links.map((a) => [
    // The icon is aria-hidden: the label is the rest of the text.
    [...a.childNodes].filter((n) => !(n.nodeType === 1 && n.getAttribute('aria-hidden') === 'true')).map((n) => n.textContent).join('').trim(),
    a.getAttribute('href').replace(/^#\//, ''),
  ]));
}

/** Open a page through the navigation; wait for its heading and for loading to finish. */
async function visit(page, label) {
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: label, exact: true }).click();
  await page.getByRole('heading', { level: 1 }).first().waitFor();
  await settle(page);
  assert.equal(await page.getByText('There is no such page.').count(), 0, `${label} is a page`);
}

/** A phone screen must not scroll sideways: wide content scrolls inside its own box. */
async function assertNoSidewaysScroll(page, what) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width + 1, `${what} is ${scroll}px wide on a ${width}px screen`);
}

describe('every page', () => {
  let browser;

  before(async () => {
    browser = await launch();
    // A plain user with a password and some money.
    await api('/users', { method: 'POST', body: { name: USER.name, password: USER.password, balance_nano: 5_000_000_000 } });
  });

  after(async () => {
    await browser?.close();
  });

  it('signs in with an API key (and refuses a wrong one)', STEP, async () => {
    const page = await newPage(browser);
    await page.goto('/');
    await page.getByRole('button', { name: 'Sign in with an API key' }).click();
    await page.getByLabel('API key').fill('sk-this-key-does-not-exist-000000000000000000000000');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: /\S/ }).waitFor();
    assert.equal(await page.getByRole('navigation', { name: 'Main navigation' }).count(), 0, 'a wrong key does not sign in');
    await shot(page, 'desktop-signin-key');
    await signInWithKey(page, ROOT_KEY);
    await page.getByText(/Signed in as .* \(root\)/).waitFor();
    assertNoErrors(page, 'signing in with a key');
    await page.context().close();
  });

  it('renders every page for root on a desktop', { timeout: 180_000 }, async () => {
    const page = await newPage(browser);
    await signInWithKey(page);
    const links = await navLinks(page);
    for (const admin of ADMIN_ONLY) assert.ok(links.some(([l]) => l === admin), `root sees ${admin}`);
    for (const [label, path] of links) {
      await visit(page, label);
      await shot(page, `desktop-page-${path}`);
    }
    assertNoErrors(page, 'the pages (root, desktop)');
    await page.context().close();
  });

  it('shows every docs section with this server\'s base URL filled in', { timeout: 180_000 }, async () => {
    const page = await newPage(browser);
    await signInWithKey(page);
    await visit(page, 'Docs');
    const toc = page.getByRole('navigation', { name: /contents/i }).first();
    const sections = await toc.getByRole('link').evaluateAll((as) => as.map((a) => [a.textContent.trim(), a.getAttribute('href')]));
    assert.ok(sections.length >= 10, `the docs have their table of contents (${sections.length} sections)`);
    let withBase = 0; // sections whose code examples call this very server
    for (const [title, href] of sections) {
      await toc.getByRole('link', { name: title, exact: true }).click();
      await page.waitForURL((u) => u.hash === href);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      const text = await page.locator('main').textContent();
      assert.ok(!/\{(BASE|ORIGIN)\}/.test(text), `${title}: every placeholder is filled in`);
      const code = (await page.locator('main pre').allTextContents()).join('\n');
      if (code.includes(BASE + '/v1')) withBase++;
      await shot(page, `desktop-docs-${href.split('/').pop()}`);
    }
    assert.ok(withBase >= 3, `examples use this server's base URL (${withBase} sections do)`);
    assertNoErrors(page, 'the docs');
    await page.context().close();
  });

  it('renders every page for a plain user, without the admin pages', { timeout: 180_000 }, async () => {
    const page = await newPage(browser);
    await signInWithPassword(page, USER.name, USER.password);
    await page.getByText(`Signed in as ${USER.name} (user)`).waitFor();
    const links = await navLinks(page);
    for (const admin of ADMIN_ONLY) assert.ok(!links.some(([l]) => l === admin), `a user does not see ${admin}`);
    for (const [label, path] of links) {
      await visit(page, label);
      await shot(page, `desktop-user-${path}`);
    }
    // An admin page reached by its address is refused politely, not half-drawn.
    await page.goto('/#/users');
    await page.getByText('There is no such page.').waitFor();
    assertNoErrors(page, 'the pages (user, desktop)');
    await page.context().close();
  });

  it('works on a phone: the menu opens, navigates and closes', { timeout: 180_000 }, async () => {
    const page = await newPage(browser, { viewport: PHONE });
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shot(page, 'phone-signin');
    await signInWithKey(page);
    const nav = page.getByRole('navigation', { name: 'Main navigation' });
    const menu = page.getByRole('button', { name: 'Menu' });
    const navOnScreen = async () => { const b = await nav.boundingBox(); return b && b.x + b.width > 1; };

    await menu.waitFor();
    await until(async () => !(await navOnScreen()), { what: 'the menu to start closed' });
    await assertNoSidewaysScroll(page, 'the dashboard');
    await shot(page, 'phone-dashboard');

    for (const [label, path] of [['Channels', 'channels'], ['API keys', 'keys'], ['Playground', 'playground'], ['Tasks', 'tasks'], ['Logs', 'logs']]) {
      await menu.click();
      assert.equal(await page.getByRole('button', { name: 'Menu' }).getAttribute('aria-expanded'), 'true');
      await until(navOnScreen, { what: 'the menu to open' });
      if (path === 'channels') await shot(page, 'phone-menu-open');
      await nav.getByRole('link', { name: label, exact: true }).click();
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await settle(page);
      // Choosing a page closes the menu so the page is visible.
      await until(async () => !(await navOnScreen()), { what: `the menu to close after choosing ${label}` });
      await assertNoSidewaysScroll(page, `the ${label} page`);
      await shot(page, `phone-${path}`);
    }
    assertNoErrors(page, 'the pages (phone)');
    await page.context().close();
  });
});

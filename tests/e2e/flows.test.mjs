// The console's main flows, in the order an operator meets them (issue 6, "Done when"):
// sign in with a password, add a channel and test it, create a key, chat in the playground
// (streamed) and find the request in the logs, start a video from the playground and watch
// it play in the tasks gallery, switch to Chinese, sign out. The steps share one browser
// page and build on each other (the key from the keys page is the playground's key), so a
// failure early on also fails what depends on it; each step says what it needed.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  api, assertNoErrors, launch, newPage, openPage, shot, signInWithPassword, until,
} from './lib.mjs';

const PASSWORD = 'e2e correct horse battery';
const CHANNEL = 'e2e-openai';
const KEY_NAME = 'e2e-playground';
const STEP = { timeout: 90_000 };
const VIDEO_STEP = { timeout: 180_000 };

describe('console flows', () => {
  let browser;
  let page;
  let rootName;
  const state = {}; // what one step hands the next: the key's secret, the request id, …

  before(async () => {
    // Root has no password on a fresh start: set one with the root key, as an operator
    // would before using the console (POST /api/me/password).
    rootName = (await api('/me')).name;
    await api('/me/password', { method: 'POST', body: { new_password: PASSWORD } });
    browser = await launch();
    page = await newPage(browser);
  });

  after(async () => {
    await browser?.close();
  });

  it('signs in with a username and password', STEP, async () => {
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shot(page, 'desktop-signin');

    // A wrong password is refused where the user is looking, and the form stays.
    await page.getByLabel('Username').fill(rootName);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: /wrong/i }).waitFor();

    await signInWithPassword(page, rootName, PASSWORD);
    await page.getByText(`Signed in as ${rootName} (root)`).waitFor();
    // The session is a cookie: a reload stays signed in.
    await page.reload();
    await page.getByRole('navigation', { name: 'Main navigation' }).waitFor();
    await shot(page, 'flow-01-signed-in');
  });

  it('adds an OpenAI channel pointing at the demo simulator', STEP, async () => {
    // The simulator listens on a port picked at start; demo-openai points at it.
    const demo = (await api('/channels')).data.find((c) => c.name === 'demo-openai');
    assert.ok(demo, 'the demo has a demo-openai channel');
    await openPage(page, 'Channels');
    await page.getByRole('button', { name: 'Add channel' }).click();
    const dlg = page.getByRole('dialog', { name: 'Add a channel' });
    await dlg.getByLabel('Provider').selectOption('openai');
    await dlg.getByLabel('Name', { exact: true }).fill(CHANNEL);
    await dlg.getByLabel('Base URL').fill(demo.base_url);
    await dlg.getByLabel('Upstream keys').fill('sk-sim-e2e');
    await dlg.getByLabel('Models', { exact: true }).fill('gpt-4o-mini');
    await shot(page, 'flow-02-channel-form');
    await dlg.getByRole('button', { name: 'Create' }).click();
    await dlg.waitFor({ state: 'detached' });
    await page.getByRole('row', { name: new RegExp(CHANNEL) }).waitFor();
    const saved = (await api('/channels')).data.find((c) => c.name === CHANNEL);
    assert.ok(saved, 'the channel is stored');
    assert.equal(saved.kind, 'openai');
    assert.equal(saved.status, 'enabled');
    assert.deepEqual(saved.models, ['gpt-4o-mini']);
    state.channelId = saved.id;
  });

  it('tests the channel from the channels page and shows the result', STEP, async () => {
    assert.ok(state.channelId, 'needs the channel from the previous step');
    const row = page.getByRole('row', { name: new RegExp(CHANNEL) });
    await row.getByRole('button', { name: `Test ${CHANNEL}` }).click();
    // The toast says it, and the row's "Last test" cell keeps it.
    await page.getByRole('status').getByText(new RegExp(`${CHANNEL}: OK · \\d+ ms`)).waitFor();
    await row.getByText(/^OK · \d+ ms$/).waitFor();
    // The gateway keeps it: a reload still shows it.
    await page.reload();
    await row.getByText(/^OK · \d+ ms$/).waitFor();
    // The provider's balance, asked for from the row (the demo's account has $100 of credit).
    assert.ok(await row.getByText('Not asked').isVisible(), 'no balance before asking');
    await row.getByRole('button', { name: `Ask the provider for the balance: ${CHANNEL}` }).click();
    await row.getByText(/^\$\d+\.\d+/).waitFor();
    await shot(page, 'desktop-channels');
  });

  it('creates a key and shows its secret once', STEP, async () => {
    await openPage(page, 'API keys');
    await page.getByRole('button', { name: 'Create key' }).click();
    const form = page.getByRole('dialog', { name: 'Create an API key' });
    await form.getByLabel('Name', { exact: true }).fill(KEY_NAME);
    await form.getByRole('button', { name: 'Create' }).click();
    const shown = page.getByRole('dialog', { name: 'Your new API key' });
    await shown.getByRole('alert').filter({ hasText: 'only time' }).waitFor();
    const secret = (await shown.getByTestId('new-key-secret').textContent()).trim();
    assert.match(secret, /^sk-[A-Za-z0-9]{20,}$/, 'the full secret is shown');
    await shown.getByRole('button', { name: /^Copy/ }).waitFor();
    await shot(page, 'flow-04-key-secret');
    await shown.getByRole('button', { name: 'Close' }).last().click();
    await shown.waitFor({ state: 'detached' });

    // Listed by name and hint; the secret itself is nowhere on the page any more.
    const row = page.getByRole('row', { name: new RegExp(KEY_NAME) });
    await row.waitFor();
    const stored = (await api('/keys')).data.find((k) => k.name === KEY_NAME);
    assert.ok(stored, 'the key is stored');
    await row.getByText(stored.key_hint).waitFor();
    assert.ok(!(await page.content()).includes(secret), 'the secret is not shown again');
    await shot(page, 'desktop-keys');
    state.key = secret;
    state.keyId = stored.id;
  });

  it('sends a streamed chat in the playground with that key', STEP, async () => {
    assert.ok(state.key, 'needs the key from the previous step');
    await openPage(page, 'Playground');
    await page.getByLabel('API key').fill(state.key);
    const model = page.getByLabel('Model', { exact: true });
    // The model list comes from GET /v1/models with the key.
    await until(async () => (await model.locator('option').allTextContents()).includes('gpt-4o-mini'),
      { what: 'gpt-4o-mini in the model list' });
    await model.selectOption('gpt-4o-mini');
    assert.equal(await page.getByLabel('Stream the answer').isChecked(), true, 'streaming is the default');
    await page.getByLabel('Message', { exact: true }).fill('Say hello to the end-to-end test.');
    const answered = page.waitForResponse((r) => r.url().endsWith('/v1/chat/completions') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const res = await answered;
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'] || '', /text\/event-stream/, 'the answer is streamed');

    const log = page.getByRole('log', { name: 'Conversation' });
    // The usage line appears once the stream has ended (stream_options.include_usage).
    await log.getByText(/\d+ in \+ \d+ out = \d+ tokens/).waitFor();
    const answer = (await log.locator('.pg-msg.assistant .pg-content').last().textContent()).trim();
    assert.ok(answer.length > 0, 'the answer has text');
    const meta = await log.locator('.pg-msg.assistant .pg-meta').last().textContent();
    state.requestId = /Request (\S+)/.exec(meta)?.[1];
    const raw = await page.locator('details', { hasText: 'Raw answer' }).locator('pre').textContent();
    assert.match(raw, /data: \{.*chat\.completion\.chunk/, 'the raw answer shows the SSE events');
    // The code snippets are for exactly this request.
    const code = await page.getByRole('tabpanel').textContent();
    assert.match(code, /curl -N .*\/v1\/chat\/completions/);
    assert.match(code, /Say hello to the end-to-end test\./);
    await shot(page, 'desktop-playground');
  });

  it('shows that request in the logs', STEP, async () => {
    assert.ok(state.keyId, 'needs the key from the keys step');
    await openPage(page, 'Logs');
    // The newest request first; it names the model and the key it was made with.
    const row = page.getByRole('row', { name: new RegExp(`gpt-4o-mini.*${KEY_NAME}|${KEY_NAME}.*gpt-4o-mini`) }).first();
    await until(async () => {
      if (await row.isVisible()) return true;
      await page.getByRole('button', { name: 'Refresh' }).first().click();
      return false;
    }, { what: `a log row for gpt-4o-mini with key ${KEY_NAME}`, every: 1000 });
    await shot(page, 'desktop-logs');
    // Its detail shows the same request id the playground showed.
    await row.click();
    const detail = page.getByRole('dialog');
    await detail.waitFor();
    if (state.requestId) await detail.getByText(state.requestId).first().waitFor();
    await shot(page, 'flow-06-log-detail');
    await detail.getByRole('button', { name: 'Close' }).last().click();
    await detail.waitFor({ state: 'detached' });
  });

  it('starts a video from the playground and plays it in the tasks gallery', VIDEO_STEP, async () => {
    assert.ok(state.key, 'needs the key from the keys step');
    await openPage(page, 'Playground');
    const keyField = page.getByLabel('API key');
    if (!(await keyField.inputValue())) await keyField.fill(state.key);
    const model = page.getByLabel('Model', { exact: true });
    await until(async () => (await model.locator('option').allTextContents()).includes('runway-video'),
      { what: 'runway-video in the model list' });
    await model.selectOption('runway-video');
    await page.getByLabel('Message', { exact: true }).fill('A paper boat sailing in the rain');
    await page.getByRole('button', { name: 'Send', exact: true }).click();

    const log = page.getByRole('log', { name: 'Conversation' });
    // The task id comes at once, then progress, then a link the page turns into a player.
    await log.getByText(/task_id/).first().waitFor({ timeout: 30_000 });
    const played = log.locator('video').last();
    await played.waitFor({ timeout: 120_000 });
    const answer = log.locator('.pg-msg.assistant').last();
    const taskId = (await answer.locator('code', { hasText: /^task_/ }).first().textContent()).trim();
    assert.match(taskId, /^task_[A-Za-z0-9]+$/, 'the answer names the task');
    await shot(page, 'flow-07-playground-video');

    await openPage(page, 'Tasks');
    const card = page.getByRole('article', { name: /^runway-video: / }).and(page.locator(`[data-id="${taskId}"]`));
    await card.waitFor();
    await card.getByText('Succeeded').waitFor({ timeout: 60_000 });
    const video = card.locator('video');
    await video.waitFor();
    const media = await until(() => video.evaluate((v) => (v.readyState >= 1 && v.duration > 0
      ? { readyState: v.readyState, duration: v.duration, src: v.currentSrc }
      : (v.error ? Promise.reject(new Error(`media error ${v.error.code}: ${v.error.message}`)) : null))),
    { timeout: 30_000, what: 'the video to load its metadata' });
    assert.ok(media.duration > 0, `the video has a duration (${JSON.stringify(media)})`);
    // It really plays: time moves once play() is called (muted: autoplay policy).
    const moved = await video.evaluate(async (v) => {
      v.muted = true;
      await v.play();
      await new Promise((r) => setTimeout(r, 600));
      const t = v.currentTime;
      v.pause();
      return t;
    });
    assert.ok(moved > 0, `the video plays (currentTime ${moved})`);
    await shot(page, 'desktop-tasks');
  });

  it('switches the language to 简体中文', STEP, async () => {
    await page.getByRole('combobox', { name: 'Language' }).selectOption({ label: '简体中文' });
    const nav = page.getByRole('navigation', { name: '主导航' });
    await nav.waitFor();
    for (const label of ['渠道', '令牌', '日志', '任务', '在线调试']) {
      await nav.getByRole('link', { name: label, exact: true }).waitFor();
    }
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
    await page.getByRole('button', { name: '退出登录' }).waitFor();
    await shot(page, 'desktop-zh-tasks');
    await nav.getByRole('link', { name: '渠道', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: '渠道' }).waitFor();
    await shot(page, 'desktop-zh-channels');
  });

  it('signs out', STEP, async () => {
    await page.getByRole('button', { name: '退出登录' }).click();
    // Still in Chinese: the choice is remembered.
    await page.getByRole('heading', { name: '登录' }).waitFor();
    const status = await page.evaluate(async () => (await fetch('/api/auth/session')).status);
    assert.equal(status, 401, 'the session is gone');
    await page.getByRole('combobox', { name: '语言' }).selectOption('en');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });

  it('logged no console or page errors on the way', () => {
    assertNoErrors(page, 'the console');
  });
});

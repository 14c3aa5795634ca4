// A browser app on another origin calling the API with a key, as docs/API.md promises
// ("CORS is open to any origin"): Chromium sends its own preflight for the Authorization and
// JSON headers, and the page must be able to read the answer, its error bodies and the
// `x-request-id` header. The page is served from a second 127.0.0.1 port, so every call is
// cross-origin and nothing here is simulated: the browser enforces CORS itself.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { BASE, ROOT_KEY, launch, newPage } from './lib.mjs';

const STEP = { timeout: 60_000 };

describe('CORS for browser apps', () => {
  let browser;
  let page;
  let app;

  before(async () => {
    app = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>another origin</title><p>app</p>');
    });
    await new Promise((ok) => app.listen(0, '127.0.0.1', ok));
    browser = await launch();
    page = await newPage(browser);
    await page.goto(`http://127.0.0.1:${app.address().port}/`);
  });

  after(async () => {
    await browser?.close();
    app?.close();
  });

  // fetch() from the page: the browser's own CORS rules decide what the script may see.
  const call = (path, init) => page.evaluate(async ({ url, init }) => {
    try {
      const r = await fetch(url, init);
      return { status: r.status, rid: r.headers.get('x-request-id'), body: await r.json() };
    } catch (e) {
      return { blocked: String(e) };
    }
  }, { url: `${BASE}${path}`, init });

  it('lets a page on another origin chat with a key and read the request id', STEP, async () => {
    const origin = await page.evaluate(() => location.origin);
    assert.notEqual(origin, new URL(BASE).origin);
    const r = await call('/v1/chat/completions', {
      method: 'POST',
      headers: { Authorization: `Bearer ${ROOT_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(r.blocked, undefined, `the browser blocked the call: ${r.blocked}`);
    assert.equal(r.status, 200);
    assert.ok(r.body.choices[0].message.content);
    assert.match(r.rid ?? '', /^req_/, 'x-request-id is exposed to the page');
  });

  it('lets the page read an error in OpenAI\'s shape', STEP, async () => {
    const r = await call('/v1/models', { headers: { Authorization: 'Bearer sk-not-a-key' } });
    assert.equal(r.blocked, undefined, `the browser blocked the call: ${r.blocked}`);
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'invalid_api_key');
  });
});

// Playground ("在线调试"): chat with any model the key may use, straight against /v1 with
// the user's API key (not the console session), streamed token by token. Video models go
// through the same chat call: their progress lines and the final markdown link render, and
// the video plays inline. The raw request and answer, and a curl / Python / Node snippet for
// exactly that request, are shown so users can take it into their own code.
//
// Also exports renderMarkdown(), a small DOM-building (never innerHTML) markdown renderer
// the docs page shares.

import { h, mount, t, addStrings, baseUrl, copyButton } from '../lib.js';

addStrings({
  en: {
    'nav.playground': 'Playground',
    'pg.title': 'Playground', 'pg.sub': 'Try any model your key may use, then copy the exact request as code.',
    'pg.settings': 'Settings', 'pg.key': 'API key', 'pg.key_hint': 'Requests go to /v1 with this key and are billed to it.',
    'pg.key_create': 'Create a key', 'pg.key_missing': 'Enter an API key to load the models it may use.',
    'pg.model': 'Model', 'pg.models_loading': 'Loading models…', 'pg.models_none': 'This key may use no model.',
    'pg.models_error': 'Could not load the models: {msg}', 'pg.reload_models': 'Reload models',
    'pg.group_chat': 'Chat models', 'pg.group_video': 'Video models',
    'pg.system': 'System prompt', 'pg.system_ph': 'You are a helpful assistant.',
    'pg.temperature': 'Temperature', 'pg.temperature_hint': '0–2; empty = the model\'s default.',
    'pg.max_tokens': 'Max tokens', 'pg.max_tokens_hint': 'Empty = no limit set (the gateway holds 4096).',
    'pg.stream': 'Stream the answer', 'pg.duration': 'Duration (seconds)', 'pg.duration_hint': 'Empty = the provider\'s default.',
    'pg.aspect': 'Aspect ratio', 'pg.default': 'Default',
    'pg.video_note': 'Video model: your message is the prompt; image URLs in it are the start and end frames. Progress streams here and the video plays when it is ready; it also appears under Tasks.',
    'pg.transcript': 'Conversation', 'pg.empty': 'Send a message to start. The answer streams in as it is generated.',
    'pg.message': 'Message', 'pg.message_ph': 'Type a message… (Enter to send, Shift+Enter for a new line)',
    'pg.video_ph': 'Describe the video, e.g. "a paper boat in the rain" (an image URL first makes it the start frame)',
    'pg.send': 'Send', 'pg.stop': 'Stop', 'pg.clear': 'Clear conversation',
    'pg.you': 'You', 'pg.assistant': 'Assistant', 'pg.system_role': 'System', 'pg.error': 'Error',
    'pg.stopped': 'Stopped.', 'pg.thinking': 'Waiting for the first token…',
    'pg.usage': '{in} in + {out} out = {total} tokens', 'pg.req_id': 'Request {id}', 'pg.latency': '{ms} ms',
    'pg.see_task': 'See it under Tasks', 'pg.video_label': 'The generated video',
    'pg.no_key': 'Enter an API key first.', 'pg.no_model': 'Pick a model first.',
    'pg.net_error': 'The request failed: {msg}',
    'pg.raw_request': 'Raw request', 'pg.raw_response': 'Raw answer', 'pg.raw_none': 'Nothing sent yet.',
    'pg.code': 'Code for this request', 'pg.show_key': 'Show my key in the code',
    'pg.code_hint': 'The code for the last request sent (before that, for a "Hello!" with these settings).',
    'pg.code_tabs': 'Language',
  },
  zh: {
    'nav.playground': '在线调试',
    'pg.title': '在线调试', 'pg.sub': '用你的密钥试用可用的任意模型，并把这次请求复制成代码。',
    'pg.settings': '设置', 'pg.key': 'API 密钥', 'pg.key_hint': '请求使用这个密钥发往 /v1，费用记在这个密钥上。',
    'pg.key_create': '创建密钥', 'pg.key_missing': '请输入 API 密钥，以加载它可用的模型。',
    'pg.model': '模型', 'pg.models_loading': '正在加载模型…', 'pg.models_none': '这个密钥没有可用的模型。',
    'pg.models_error': '无法加载模型：{msg}', 'pg.reload_models': '重新加载模型',
    'pg.group_chat': '对话模型', 'pg.group_video': '视频模型',
    'pg.system': '系统提示词', 'pg.system_ph': '你是一个乐于助人的助手。',
    'pg.temperature': '温度 (temperature)', 'pg.temperature_hint': '0–2；留空则使用模型默认值。',
    'pg.max_tokens': '最大输出 token 数', 'pg.max_tokens_hint': '留空则不设上限（网关按 4096 预扣）。',
    'pg.stream': '流式输出', 'pg.duration': '时长（秒）', 'pg.duration_hint': '留空则使用服务商默认值。',
    'pg.aspect': '画面比例', 'pg.default': '默认',
    'pg.video_note': '视频模型：你的消息就是提示词，其中的图片链接依次作为首帧和尾帧。进度会实时显示在这里，生成完成后可直接播放，也会出现在“任务”页。',
    'pg.transcript': '对话', 'pg.empty': '发送一条消息开始。回答会边生成边显示。',
    'pg.message': '消息', 'pg.message_ph': '输入消息…（Enter 发送，Shift+Enter 换行）',
    'pg.video_ph': '描述你想要的视频，例如“雨中的纸船”（开头放一个图片链接即作为首帧）',
    'pg.send': '发送', 'pg.stop': '停止', 'pg.clear': '清空对话',
    'pg.you': '你', 'pg.assistant': '助手', 'pg.system_role': '系统', 'pg.error': '错误',
    'pg.stopped': '已停止。', 'pg.thinking': '等待第一个 token…',
    'pg.usage': '输入 {in} + 输出 {out} = {total} tokens', 'pg.req_id': '请求 {id}', 'pg.latency': '{ms} 毫秒',
    'pg.see_task': '在任务页查看', 'pg.video_label': '生成的视频',
    'pg.no_key': '请先输入 API 密钥。', 'pg.no_model': '请先选择模型。',
    'pg.net_error': '请求失败：{msg}',
    'pg.raw_request': '原始请求', 'pg.raw_response': '原始响应', 'pg.raw_none': '还没有发送请求。',
    'pg.code': '这次请求的代码', 'pg.show_key': '在代码中显示我的密钥',
    'pg.code_hint': '对应最近一次发送的请求（发送前，对应用当前设置发送 "Hello!"）。',
    'pg.code_tabs': '语言',
  },
});

const KEY_STORE = 'sy.playground.key';
const MODEL_STORE = 'sy.playground.model';

/** The provider kinds whose models make videos (the gateway names a model's provider in
 * `owned_by`). Video models answer through chat with progress and a link. */
const VIDEO_PROVIDERS = new Set(['runway', 'luma', 'luma-legacy', 'kling', 'openai-video', 'veo']);
const videoModels = new Set();
export function isVideoModel(id) {
  return videoModels.has(id);
}

// ---------- markdown (shared with docs.js) ----------

const safeUrl = (u) => (/^(https?:|#|\/|mailto:)/i.test(u) ? u : null);
const isVideoUrl = (u) => /\.(mp4|webm|mov|m4v)(\?|#|$)/i.test(u) || /\/content\?(.*&)?variant=video/.test(u) || /\/v1\/videos\/[^/]+\/content(\?|$)/.test(u);

/** Inline markdown: `code`, **bold**, ![img](url), [link](url), bare URLs. */
function inline(text, ctx) {
  const out = [];
  const re = /(`[^`]+`)|(\*\*[^*]+\*\*)|(!\[[^\]]*\]\([^)\s]+\))|(\[[^\]]+\]\([^)\s]+\))|(https?:\/\/[^\s<>()`]+)/g;
  let last = 0;
  for (let m; (m = re.exec(text));) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const s = m[0];
    if (m[1]) out.push(h('code', {}, s.slice(1, -1)));
    else if (m[2]) out.push(h('strong', {}, s.slice(2, -2)));
    else if (m[3]) {
      const [, alt, url] = /^!\[([^\]]*)\]\(([^)\s]+)\)$/.exec(s);
      out.push(safeUrl(url) ? h('img', { src: url, alt, loading: 'lazy', class: 'md-img' }) : s);
    } else if (m[4]) {
      const [, label, url] = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(s);
      out.push(link(url, label, ctx));
    } else {
      // A bare URL ends before trailing punctuation ("see https://x.y/z." or "（https://…）").
      const url = s.replace(/[.,;:!?'"。，；：！？）]+$/, '');
      out.push(link(url, url, ctx));
      last = m.index + url.length;
      continue;
    }
    last = m.index + s.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function link(url, label, ctx) {
  if (!safeUrl(url)) return label;
  if (ctx && isVideoUrl(url)) ctx.videos.add(url);
  const external = /^https?:/i.test(url) && !url.startsWith(location.origin + '/#');
  return h('a', { href: url, target: external ? '_blank' : undefined, rel: external ? 'noopener' : undefined }, label);
}

function splitRow(line) {
  return line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
}

/**
 * Markdown to DOM nodes: headings, paragraphs, lists, quotes, tables, fenced code (with a
 * copy button). Links to videos get an inline <video> after the block that names them.
 * Options: {copy: true} adds copy buttons to code blocks.
 */
export function renderMarkdown(src, opts = {}) {
  const lines = String(src).replace(/\r\n/g, '\n').split('\n');
  const nodes = [];
  const ctx = { videos: new Set() };
  let i = 0;
  const flushVideos = () => {
    for (const url of ctx.videos) {
      nodes.push(h('video', { class: 'md-video', controls: true, playsinline: true, preload: 'metadata', src: url, 'aria-label': t('pg.video_label') }));
    }
    ctx.videos.clear();
  };
  while (i < lines.length) {
    const line = lines[i];
    if (/^```/.test(line)) {
      const langName = line.slice(3).trim();
      const code = [];
      i++;
      while (i < lines.length && !/^```\s*$/.test(lines[i])) code.push(lines[i++]);
      i++;
      const text = code.join('\n');
      nodes.push(h('div', { class: 'md-code' },
        opts.copy ? copyButton(text, `${t('common.copy')} ${langName}`.trim()) : null,
        h('pre', {}, h('code', { class: langName ? 'lang-' + langName : undefined }, text))));
      continue;
    }
    if (!line.trim()) { i++; continue; }
    const head = /^(#{1,4})\s+(.*)$/.exec(line);
    if (head) {
      const level = Math.min(6, head[1].length + (opts.headingShift || 0));
      const text = head[2];
      nodes.push(h('h' + level, { id: opts.slugIds ? slugify(text) : undefined }, inline(text, ctx)));
      i++;
      continue;
    }
    if (/^\|.*\|\s*$/.test(line) && i + 1 < lines.length && /^\|[\s:|-]+\|\s*$/.test(lines[i + 1])) {
      const headCells = splitRow(line);
      i += 2;
      const rows = [];
      while (i < lines.length && /^\|.*\|\s*$/.test(lines[i])) rows.push(splitRow(lines[i++]));
      nodes.push(h('div', { class: 'table-wrap md-table' }, h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, headCells.map((c) => h('th', { scope: 'col' }, inline(c, ctx))))),
        h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, j) => h('td', { 'data-label': headCells[j] || '' }, inline(c, ctx)))))))));
      continue;
    }
    if (/^>\s?/.test(line)) {
      const quote = [];
      while (i < lines.length && /^>\s?/.test(lines[i])) quote.push(lines[i++].replace(/^>\s?/, ''));
      nodes.push(h('blockquote', {}, quote.map((q, k) => [k ? h('br') : null, inline(q, ctx)])));
      flushVideos();
      continue;
    }
    const bullet = /^\s*([-*]|\d+\.)\s+/;
    if (bullet.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const items = [];
      while (i < lines.length && bullet.test(lines[i])) {
        let item = lines[i++].replace(bullet, '');
        // Continuation lines indented under an item belong to it.
        while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !bullet.test(lines[i])) item += ' ' + lines[i++].trim();
        items.push(item);
      }
      nodes.push(h(ordered ? 'ol' : 'ul', {}, items.map((it) => h('li', {}, inline(it, ctx)))));
      flushVideos();
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() && !/^(```|#{1,4}\s|>|\s*([-*]|\d+\.)\s)/.test(lines[i]) && !/^\|.*\|\s*$/.test(lines[i])) para.push(lines[i++]);
    if (!para.length) para.push(lines[i++]); // a line no rule took: keep it as text
    nodes.push(h('p', {}, para.map((p, k) => [k ? h('br') : null, inline(p, ctx)])));
    flushVideos();
  }
  flushVideos();
  return nodes;
}

export function slugify(s) {
  return String(s).toLowerCase().replace(/[`*[\]()]/g, '').trim().replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '');
}

// ---------- code snippets ----------

/** A JSON value as a Python literal (True/False/None), indented like black would. */
function py(v, ind = '') {
  const next = ind + '    ';
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return '[\n' + v.map((x) => next + py(x, next)).join(',\n') + ',\n' + ind + ']';
  }
  const keys = Object.keys(v);
  if (!keys.length) return '{}';
  return '{\n' + keys.map((k) => `${next}${JSON.stringify(k)}: ${py(v[k], next)}`).join(',\n') + ',\n' + ind + '}';
}

/** A JSON value as a JavaScript literal with unquoted identifier keys. */
function js(v, ind = '') {
  const next = ind + '  ';
  if (v === null || typeof v !== 'object') return v === undefined ? 'undefined' : JSON.stringify(v);
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return '[\n' + v.map((x) => next + js(x, next)).join(',\n') + ',\n' + ind + ']';
  }
  const keys = Object.keys(v);
  if (!keys.length) return '{}';
  const key = (k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k));
  return '{\n' + keys.map((k) => `${next}${key(k)}: ${js(v[k], next)}`).join(',\n') + ',\n' + ind + '}';
}

// Parameters the OpenAI Python SDK takes by name; others go in extra_body.
const PY_PARAMS = new Set(['model', 'messages', 'temperature', 'max_tokens', 'max_completion_tokens', 'stream', 'stream_options', 'top_p', 'n', 'stop', 'presence_penalty', 'frequency_penalty', 'seed', 'tools', 'tool_choice', 'response_format', 'user']);

export function snippets(body, key) {
  const base = baseUrl();
  const shq = (s) => "'" + s.replace(/'/g, "'\\''") + "'";
  const curl = [
    `curl ${body.stream ? '-N ' : ''}${base}/chat/completions \\`,
    `  -H "Authorization: Bearer ${key}" \\`,
    '  -H "Content-Type: application/json" \\',
    `  -d ${shq(JSON.stringify(body, null, 2))}`,
  ].join('\n');

  const named = Object.entries(body).filter(([k]) => PY_PARAMS.has(k));
  const extra = Object.fromEntries(Object.entries(body).filter(([k]) => !PY_PARAMS.has(k)));
  const args = named.map(([k, v]) => `    ${k}=${py(v, '    ')},`);
  if (Object.keys(extra).length) args.push(`    extra_body=${py(extra, '    ')},`);
  const python = [
    'from openai import OpenAI',
    '',
    `client = OpenAI(base_url="${base}", api_key="${key}")`,
    '',
    `${body.stream ? 'stream' : 'reply'} = client.chat.completions.create(`,
    ...args,
    ')',
    ...(body.stream ? [
      'for chunk in stream:',
      '    if chunk.choices:',
      '        print(chunk.choices[0].delta.content or "", end="", flush=True)',
      '    elif chunk.usage:',
      '        print("\\n", chunk.usage)',
    ] : ['print(reply.choices[0].message.content)', 'print(reply.usage)']),
  ].join('\n');

  const node = [
    "import OpenAI from 'openai';",
    '',
    `const client = new OpenAI({ baseURL: '${base}', apiKey: '${key}' });`,
    '',
    `const ${body.stream ? 'stream' : 'reply'} = await client.chat.completions.create(${js(body)});`,
    ...(body.stream ? [
      'for await (const chunk of stream) {',
      "  if (chunk.choices.length) process.stdout.write(chunk.choices[0].delta?.content || '');",
      "  else if (chunk.usage) console.log('\\n', chunk.usage);",
      '}',
    ] : ['console.log(reply.choices[0].message.content, reply.usage);']),
  ].join('\n');
  return { curl, python, node };
}

// ---------- streaming ----------

/**
 * Read an SSE body: calls onData(json) for each `data: {...}` event, returns the raw text.
 * Stops at `data: [DONE]`. Robust to events split across network chunks.
 */
async function readSse(res, onData, onRaw) {
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  let raw = '';
  let done = false;
  while (!done) {
    const r = await reader.read();
    if (r.done) break;
    const text = dec.decode(r.value, { stream: true });
    raw += text;
    onRaw(raw);
    buf += text;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (!line.startsWith('data:')) continue;
      const payload = line.slice(5).trim();
      if (payload === '[DONE]') { done = true; reader.cancel().catch(() => {}); break; }
      try { onData(JSON.parse(payload)); } catch { /* a malformed event is shown in the raw answer */ }
    }
  }
  return raw;
}

// ---------- the page ----------

export default {
  path: 'playground', title: 'nav.playground', admin: false, icon: '⚗',
  async render(main) {
    let controller = null; // AbortController of the request in flight
    let alive = true;
    const transcript = []; // {role, content, el?, meta?}
    let lastBody = null;
    let models = [];

    // --- settings ---
    const keyIn = h('input', { id: 'pg-key', type: 'password', autocomplete: 'off', spellcheck: false, placeholder: 'sk-…', value: localStorage.getItem(KEY_STORE) || '', 'aria-describedby': 'pg-key-hint' });
    const modelSel = h('select', { id: 'pg-model', 'aria-describedby': 'pg-model-status' });
    const modelStatus = h('small', { id: 'pg-model-status', class: 'hint', role: 'status' });
    const systemIn = h('textarea', { id: 'pg-system', rows: 3, placeholder: t('pg.system_ph') });
    const tempIn = h('input', { id: 'pg-temp', type: 'number', min: 0, max: 2, step: 0.1, inputmode: 'decimal', value: '0.7', 'aria-describedby': 'pg-temp-hint' });
    const maxIn = h('input', { id: 'pg-max', type: 'number', min: 1, step: 1, inputmode: 'numeric', placeholder: '—', 'aria-describedby': 'pg-max-hint' });
    const streamIn = h('input', { id: 'pg-stream', type: 'checkbox', checked: true });
    const durIn = h('input', { id: 'pg-duration', type: 'number', min: 1, max: 60, step: 1, inputmode: 'numeric', placeholder: '—', 'aria-describedby': 'pg-duration-hint' });
    const aspectSel = h('select', { id: 'pg-aspect' }, [['', t('pg.default')], ['16:9'], ['9:16'], ['1:1']].map(([v, l]) => h('option', { value: v }, l || v)));
    const showKey = h('input', { id: 'pg-showkey', type: 'checkbox' });

    const fld = (id, label, control, hint) => h('div', { class: 'field' }, h('label', { for: id }, label), control,
      hint ? h('small', { id: id + '-hint', class: 'hint' }, hint) : null);
    const chatParams = h('div', { class: 'pg-chat-params' },
      fld('pg-system', t('pg.system'), systemIn),
      h('div', { class: 'row' },
        fld('pg-temp', t('pg.temperature'), tempIn, t('pg.temperature_hint')),
        fld('pg-max', t('pg.max_tokens'), maxIn, t('pg.max_tokens_hint'))));
    const videoParams = h('div', { class: 'pg-video-params', hidden: true },
      h('p', { class: 'hint pg-note' }, t('pg.video_note')),
      h('div', { class: 'row' },
        fld('pg-duration', t('pg.duration'), durIn, t('pg.duration_hint')),
        fld('pg-aspect', t('pg.aspect'), aspectSel)));

    const settings = h('section', { class: 'panel pg-settings', 'aria-labelledby': 'pg-settings-h' },
      h('h2', { id: 'pg-settings-h' }, t('pg.settings')),
      h('div', { class: 'field' }, h('label', { for: 'pg-key' }, t('pg.key')), keyIn,
        h('small', { id: 'pg-key-hint', class: 'hint' }, t('pg.key_hint'), ' ', h('a', { href: '#/keys' }, t('pg.key_create')))),
      h('div', { class: 'field' }, h('label', { for: 'pg-model' }, t('pg.model')),
        h('div', { class: 'pg-model-row' }, modelSel,
          h('button', { type: 'button', class: 'icon', title: t('pg.reload_models'), 'aria-label': t('pg.reload_models'), onclick: () => loadModels() }, '↻')),
        modelStatus),
      chatParams, videoParams,
      h('label', { class: 'check', for: 'pg-stream' }, streamIn, t('pg.stream')));

    // --- conversation ---
    const log = h('div', { class: 'pg-log', role: 'log', 'aria-live': 'polite', 'aria-label': t('pg.transcript') });
    const input = h('textarea', { id: 'pg-input', rows: 3, placeholder: t('pg.message_ph') });
    const sendBtn = h('button', { type: 'submit', class: 'primary' }, t('pg.send'));
    const stopBtn = h('button', { type: 'button', class: 'danger', hidden: true, onclick: () => controller?.abort() }, t('pg.stop'));
    const clearBtn = h('button', { type: 'button', class: 'ghost', onclick: () => { transcript.length = 0; drawLog(); } }, t('pg.clear'));
    const composer = h('form', { class: 'pg-composer', onsubmit: (e) => { e.preventDefault(); send(); } },
      h('label', { for: 'pg-input', class: 'sr-only' }, t('pg.message')), input,
      h('div', { class: 'actions' }, clearBtn, stopBtn, sendBtn));
    input.addEventListener('keydown', (e) => {
      // Enter sends; Shift+Enter is a new line; Enter that confirms an IME composition does not send.
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); composer.requestSubmit(); }
    });
    const chat = h('section', { class: 'panel pg-chat', 'aria-labelledby': 'pg-chat-h' },
      h('h2', { id: 'pg-chat-h' }, t('pg.transcript')), log, composer);

    // --- raw request / answer and code ---
    const rawReq = h('pre', { class: 'pg-raw', tabindex: '0' }, t('pg.raw_none'));
    const rawRes = h('pre', { class: 'pg-raw', tabindex: '0' }, t('pg.raw_none'));
    const codePre = h('pre', { class: 'pg-code', id: 'pg-code-panel', role: 'tabpanel', tabindex: '0' });
    let tab = 'curl';
    let code = { curl: '', python: '', node: '' };
    const tabs = h('div', { class: 'pg-tabs', role: 'tablist', 'aria-label': t('pg.code_tabs') });
    const drawTabs = () => mount(tabs, [['curl', 'curl'], ['python', 'Python'], ['node', 'Node.js']].map(([id, label]) => h('button', {
      type: 'button', role: 'tab', id: 'pg-tab-' + id, 'aria-selected': String(tab === id), 'aria-controls': 'pg-code-panel',
      tabindex: tab === id ? '0' : '-1', class: tab === id ? 'small active' : 'small',
      onclick: () => { tab = id; drawCode(); },
      onkeydown: (e) => {
        const order = ['curl', 'python', 'node'];
        const d = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
        if (!d) return;
        tab = order[(order.indexOf(tab) + d + 3) % 3];
        drawCode();
        tabs.querySelector('[aria-selected=true]')?.focus();
      },
    }, label)));
    const drawCode = () => {
      const key = showKey.checked && keyIn.value.trim() ? keyIn.value.trim() : 'sk-…';
      code = snippets(lastBody || buildBody([{ role: 'user', content: 'Hello!' }]), key);
      drawTabs();
      codePre.setAttribute('aria-labelledby', 'pg-tab-' + tab);
      codePre.textContent = code[tab];
    };
    showKey.onchange = drawCode;
    const extras = h('section', { class: 'panel pg-extras' },
      h('details', { class: 'raw' }, h('summary', {}, t('pg.raw_request')),
        h('div', { class: 'actions' }, copyButton(() => rawReq.textContent, t('pg.raw_request'))), rawReq),
      h('details', { class: 'raw' }, h('summary', {}, t('pg.raw_response')),
        h('div', { class: 'actions' }, copyButton(() => rawRes.textContent, t('pg.raw_response'))), rawRes),
      h('details', { class: 'raw', open: true }, h('summary', {}, t('pg.code')),
        h('p', { class: 'hint' }, t('pg.code_hint')),
        h('div', { class: 'pg-code-head' }, tabs,
          h('label', { class: 'check', for: 'pg-showkey' }, showKey, t('pg.show_key')),
          copyButton(() => code[tab], t('pg.code'))),
        codePre));

    mount(main,
      h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, t('pg.title')), h('p', { class: 'sub' }, t('pg.sub')))),
      h('div', { class: 'pg-layout' }, settings, h('div', { class: 'pg-main' }, chat, extras)));

    // --- behaviour ---
    const video = () => isVideoModel(modelSel.value);
    function onModelChange() {
      localStorage.setItem(MODEL_STORE, modelSel.value);
      chatParams.hidden = video();
      videoParams.hidden = !video();
      input.placeholder = video() ? t('pg.video_ph') : t('pg.message_ph');
      drawCode();
    }
    modelSel.onchange = onModelChange;
    for (const el of [systemIn, tempIn, maxIn, streamIn, durIn, aspectSel]) el.addEventListener('change', () => { if (!lastBody) drawCode(); });

    let keyTimer = null;
    keyIn.addEventListener('input', () => {
      localStorage.setItem(KEY_STORE, keyIn.value.trim());
      clearTimeout(keyTimer);
      keyTimer = setTimeout(loadModels, 500);
    });

    async function loadModels() {
      const key = keyIn.value.trim();
      models = [];
      if (!key) {
        mount(modelSel);
        modelStatus.textContent = t('pg.key_missing');
        onModelChange();
        return;
      }
      modelStatus.textContent = t('pg.models_loading');
      try {
        const res = await fetch(baseUrl() + '/models', { headers: { authorization: 'Bearer ' + key } });
        const data = await res.json().catch(() => null);
        if (!res.ok) throw new Error(data?.error?.message || res.statusText);
        models = (data.data || []).map((m) => m.id).sort();
        videoModels.clear();
        for (const m of data.data || []) if (VIDEO_PROVIDERS.has(m.owned_by)) videoModels.add(m.id);
      } catch (e) {
        if (!alive) return;
        mount(modelSel);
        modelStatus.textContent = t('pg.models_error', { msg: e.message });
        onModelChange();
        return;
      }
      if (!alive) return;
      const keep = modelSel.value || localStorage.getItem(MODEL_STORE);
      const chatList = models.filter((m) => !isVideoModel(m));
      const videoList = models.filter(isVideoModel);
      const opt = (m) => h('option', { value: m, selected: m === keep }, m);
      mount(modelSel,
        chatList.length ? h('optgroup', { label: t('pg.group_chat') }, chatList.map(opt)) : null,
        videoList.length ? h('optgroup', { label: t('pg.group_video') }, videoList.map(opt)) : null);
      if (!models.includes(keep) && models.includes('gpt-4o-mini')) modelSel.value = 'gpt-4o-mini';
      modelStatus.textContent = models.length ? '' : t('pg.models_none');
      onModelChange();
    }

    /** The request body for these messages and the current settings. */
    function buildBody(history) {
      const body = { model: modelSel.value || 'gpt-4o-mini' };
      const msgs = [];
      if (video()) {
        // A video request is the last user message alone.
        msgs.push(history.filter((m) => m.role === 'user').slice(-1)[0]);
        body.messages = msgs.filter(Boolean).map(({ role, content }) => ({ role, content }));
        if (durIn.value) body.duration = Number(durIn.value);
        if (aspectSel.value) body.aspect_ratio = aspectSel.value;
      } else {
        if (systemIn.value.trim()) msgs.push({ role: 'system', content: systemIn.value.trim() });
        for (const m of history) if (m.role === 'user' || (m.role === 'assistant' && m.content)) msgs.push({ role: m.role, content: m.content });
        body.messages = msgs;
        if (tempIn.value !== '') body.temperature = Number(tempIn.value);
        if (maxIn.value !== '') body.max_tokens = Number(maxIn.value);
      }
      if (streamIn.checked) {
        body.stream = true;
        body.stream_options = { include_usage: true };
      }
      return body;
    }

    function bubble(m) {
      const who = { user: t('pg.you'), assistant: t('pg.assistant'), error: t('pg.error') }[m.role];
      const content = h('div', { class: 'pg-content' });
      const meta = h('div', { class: 'pg-meta' });
      const el = h('div', { class: 'pg-msg ' + m.role }, h('div', { class: 'pg-who' }, who), content, meta);
      m.el = el;
      m.contentEl = content;
      m.metaEl = meta;
      paint(m);
      return el;
    }

    /** Draw one message's content: user text as typed, answers as markdown. */
    function paint(m) {
      if (m.role === 'user') mount(m.contentEl, h('p', { class: 'pg-plain' }, m.content));
      else if (m.role === 'error') mount(m.contentEl, h('p', {}, m.content));
      else if (!m.content && m.pending) mount(m.contentEl, h('p', { class: 'muted' }, t('pg.thinking')));
      else {
        mount(m.contentEl, renderMarkdown(m.content), m.stopped ? h('p', { class: 'muted' }, t('pg.stopped')) : null);
        // A video grows when its size is known: keep the reader at the bottom.
        for (const v of m.contentEl.querySelectorAll('video')) v.addEventListener('loadedmetadata', stick, { once: true });
      }
      const taskId = m.role === 'assistant' && !m.pending && /task_id: `([^`]+)`/.exec(m.content || '')?.[1];
      mount(m.metaEl,
        m.usage ? h('span', {}, t('pg.usage', { in: m.usage.prompt_tokens ?? 0, out: m.usage.completion_tokens ?? 0, total: m.usage.total_tokens ?? 0 })) : null,
        m.ms ? h('span', {}, t('pg.latency', { ms: m.ms })) : null,
        m.requestId ? h('span', { class: 'mono' }, t('pg.req_id', { id: m.requestId })) : null,
        taskId ? h('a', { href: '#/tasks/' + encodeURIComponent(taskId) }, t('pg.see_task')) : null);
    }

    function drawLog() {
      if (!transcript.length) return mount(log, h('p', { class: 'muted pg-empty' }, t('pg.empty')));
      mount(log, transcript.map(bubble));
      log.scrollTop = log.scrollHeight;
    }

    /** Add a message at the end without redrawing the others (a playing video keeps playing). */
    function add(m) {
      transcript.push(m);
      if (transcript.length === 1) mount(log);
      log.append(bubble(m));
      log.scrollTop = log.scrollHeight;
    }

    function stick() {
      // Follow the answer only when the reader is already at the bottom.
      if (log.scrollHeight - log.scrollTop - log.clientHeight < 80) log.scrollTop = log.scrollHeight;
    }

    function busy(on) {
      const hadFocus = document.activeElement === (on ? sendBtn : stopBtn);
      sendBtn.disabled = on;
      stopBtn.hidden = !on;
      sendBtn.hidden = on;
      // Keep keyboard users on the button that replaced the one they pressed.
      if (hadFocus) (on ? stopBtn : sendBtn).focus();
    }

    async function send() {
      const key = keyIn.value.trim();
      const text = input.value.trim();
      if (!text || controller) return;
      const problem = !key ? t('pg.no_key') : !modelSel.value ? t('pg.no_model') : null;
      if (problem) return add({ role: 'error', content: problem });
      add({ role: 'user', content: text });
      input.value = '';
      const body = buildBody(transcript.filter((m) => m.role !== 'error'));
      lastBody = body;
      drawCode();
      rawReq.textContent = `POST ${baseUrl()}/chat/completions\nAuthorization: Bearer sk-…\nContent-Type: application/json\n\n${JSON.stringify(body, null, 2)}`;
      rawRes.textContent = '';
      const answer = { role: 'assistant', content: '', pending: true };
      add(answer);
      controller = new AbortController();
      busy(true);
      const started = performance.now();
      let frame = 0;
      const repaint = () => {
        if (frame) return;
        frame = requestAnimationFrame(() => { frame = 0; paint(answer); stick(); });
      };
      let res = null;
      let errorAfter = null; // an error that ends an answer already under way
      try {
        res = await fetch(baseUrl() + '/chat/completions', {
          method: 'POST', signal: controller.signal,
          headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        answer.requestId = res.headers.get('x-request-id');
        const head = `HTTP ${res.status} ${res.statusText}\ncontent-type: ${res.headers.get('content-type') || ''}\nx-request-id: ${answer.requestId || ''}\n\n`;
        const isSse = (res.headers.get('content-type') || '').includes('text/event-stream');
        if (!res.ok || !isSse) {
          const txt = await res.text();
          rawRes.textContent = head + txt;
          let data = null;
          try { data = JSON.parse(txt); } catch { /* not JSON: shown raw */ }
          if (!res.ok || data?.error) {
            const err = data?.error || {};
            answer.role = 'error';
            answer.content = `${res.status}${err.code ? ' ' + err.code : ''}: ${err.message || txt || res.statusText}`;
          } else {
            answer.content = data?.choices?.[0]?.message?.content ?? '';
            answer.usage = data?.usage;
          }
        } else {
          await readSse(res, (ev) => {
            if (ev.error) {
              answer.error = ev.error;
              return;
            }
            const delta = ev.choices?.[0]?.delta;
            if (delta?.content) { answer.content += delta.content; repaint(); }
            if (ev.usage) answer.usage = ev.usage;
          }, (raw) => { rawRes.textContent = head + raw; });
          if (answer.error) {
            errorAfter = `${answer.error.code || answer.error.type || ''}: ${answer.error.message || ''}`.replace(/^: /, '');
          }
        }
      } catch (e) {
        if (e.name === 'AbortError') answer.stopped = true;
        else {
          answer.role = answer.content ? 'assistant' : 'error';
          if (answer.role === 'error') answer.content = t('pg.net_error', { msg: e.message });
          else errorAfter = t('pg.net_error', { msg: e.message });
        }
      } finally {
        cancelAnimationFrame(frame);
        controller = null;
        answer.pending = false;
        answer.ms = Math.round(performance.now() - started);
        if (alive) {
          busy(false);
          const old = answer.el;
          old.replaceWith(bubble(answer));
          if (errorAfter) add({ role: 'error', content: errorAfter });
          stick();
          input.focus();
        }
      }
    }

    drawLog();
    drawCode();
    await loadModels();
    return () => {
      alive = false;
      clearTimeout(keyTimer);
      controller?.abort();
    };
  },
};

// What every console page shares: building elements, calling the admin API with the session,
// translations, formatting money and time, and small widgets (toast, dialog, copy button,
// table). Pages import from here; the shell (app.js) imports the pages.

// ---------- elements ----------

/** h('button', {class: 'primary', onclick: fn, 'aria-label': '…'}, 'text', child…) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

/** Replace an element's children. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// ---------- translations ----------

const strings = { en: {}, zh: {} };
export const LANGS = [['en', 'English'], ['zh', '简体中文']];

/** Pages add their own strings: addStrings({en: {...}, zh: {...}}). */
export function addStrings(more) {
  for (const l of Object.keys(strings)) Object.assign(strings[l], more[l] || {});
}

export function lang() {
  const saved = localStorage.getItem('sy.lang');
  if (saved && strings[saved]) return saved;
  return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function setLang(l) {
  localStorage.setItem('sy.lang', l);
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
}

/** t('keys.create', {name: 'x'}): the string in the current language, `{name}` filled in. */
export function t(key, vars) {
  const s = strings[lang()][key] ?? strings.en[key] ?? key;
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m)) : s;
}

// ---------- the admin API ----------

export const session = { user: null, csrf: null };

export class ApiError extends Error {
  constructor(status, message, param) {
    super(message);
    this.status = status;
    this.param = param;
  }
}

/** Call /api/…: JSON in and out, the session cookie and CSRF token attached. */
export async function api(path, { method = 'GET', body, query } = {}) {
  let url = '/api' + path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const s = q.toString();
    if (s) url += '?' + s;
  }
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && session.csrf) headers['x-csrf-token'] = session.csrf;
  const res = await fetch(url, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const err = data?.error || {};
    if (res.status === 401 && path !== '/auth/login') window.dispatchEvent(new Event('sy:signed-out'));
    throw new ApiError(res.status, err.message || text || res.statusText, err.param);
  }
  return data;
}

export function isAdmin() {
  return session.user && (session.user.role === 'admin' || session.user.role === 'root');
}

/** The base URL users point SDKs at: this very server. */
export function baseUrl() {
  return location.origin + '/v1';
}

// ---------- formatting ----------

const NANO = 1e9;

/** Nano-dollars as dollars: $1.23, $0.000150 for small amounts. */
export function money(nano) {
  const d = (nano || 0) / NANO;
  if (d === 0) return '$0';
  const digits = Math.abs(d) >= 1 ? 2 : Math.abs(d) >= 0.01 ? 4 : 6;
  return (d < 0 ? '-$' : '$') + Math.abs(d).toFixed(digits);
}

/** Dollars typed by a person to nano-dollars (exact for up to 9 decimals). */
export function toNano(dollars) {
  const s = String(dollars).trim();
  if (!/^-?\d*(\.\d{0,9})?$/.test(s) || s === '' || s === '-' || s === '.') return NaN;
  const neg = s.startsWith('-');
  const [int, frac = ''] = s.replace('-', '').split('.');
  const v = Number(int || 0) * NANO + Number((frac + '000000000').slice(0, 9));
  return neg ? -v : v;
}

/** Nano-dollars as a plain decimal for an input box, exactly (toNano's inverse): 1500000000 → "1.5". */
export function dollars(nano) {
  if (nano === null || nano === undefined) return '';
  const neg = nano < 0;
  const n = Math.abs(nano);
  const frac = String(n % NANO).padStart(9, '0').replace(/0+$/, '');
  return (neg ? '-' : '') + Math.floor(n / NANO) + (frac ? '.' + frac : '');
}

export function num(n) {
  return new Intl.NumberFormat(lang() === 'zh' ? 'zh-CN' : 'en-US').format(n || 0);
}

export function time(ms) {
  if (!ms) return '—';
  return new Date(ms).toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en-GB', {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

/** "3 min ago" style. */
export function ago(ms) {
  if (!ms) return '—';
  const s = Math.round((Date.now() - ms) / 1000);
  const rtf = new Intl.RelativeTimeFormat(lang() === 'zh' ? 'zh-CN' : 'en', { numeric: 'auto' });
  if (Math.abs(s) < 60) return rtf.format(-s, 'second');
  if (Math.abs(s) < 3600) return rtf.format(-Math.round(s / 60), 'minute');
  if (Math.abs(s) < 86400) return rtf.format(-Math.round(s / 3600), 'hour');
  return rtf.format(-Math.round(s / 86400), 'day');
}

// ---------- widgets ----------

/** A short message at the bottom of the screen, read out by screen readers. */
export function toast(message, kind = 'ok') {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div', { id: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const el = h('div', { class: 'toast ' + kind }, message);
  box.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

/**
 * Show an error from api() where the user is looking. Anything else is a bug in the page:
 * it also goes to the browser console, where the end-to-end tests look for it.
 */
export function fail(e) {
  if (!(e instanceof ApiError)) console.error(e);
  toast(e instanceof ApiError ? e.message : String(e.message || e), 'error');
}

/**
 * A modal dialog. `body` is an element; `actions` a list of buttons. Resolves with the
 * value passed to close(), or undefined when dismissed.
 */
export function dialog(title, body, actions = []) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'dialog', 'aria-label': title });
    const close = (v) => { dlg.close(); dlg.remove(); resolve(v); };
    dlg.addEventListener('cancel', () => close(undefined));
    mount(dlg,
      h('header', {}, h('h2', {}, title),
        h('button', { class: 'icon', 'aria-label': t('common.close'), onclick: () => close(undefined) }, '×')),
      h('div', { class: 'dialog-body' }, body),
      actions.length ? h('footer', {}, actions.map((a) => (typeof a === 'function' ? a(close) : a))) : null);
    document.body.append(dlg);
    dlg.showModal();
  });
}

/** A form in a dialog: resolves with the submit handler's result, or undefined. */
export function formDialog(title, fields, onSubmit, submitLabel) {
  const form = h('form', { class: 'form', novalidate: true }, fields);
  const err = h('p', { class: 'form-error', role: 'alert' });
  form.append(err);
  return dialog(title, form, [
    (close) => h('button', { type: 'button', onclick: () => close(undefined) }, t('common.cancel')),
    (close) => {
      const b = h('button', { class: 'primary', type: 'submit' }, submitLabel || t('common.save'));
      form.onsubmit = async (ev) => {
        ev.preventDefault();
        b.disabled = true;
        err.textContent = '';
        try { close(await onSubmit(new FormData(form), form)); } catch (e) {
          err.textContent = e.message || String(e);
          if (e.param) form.querySelector(`[name="${e.param}"]`)?.focus();
        } finally { b.disabled = false; }
      };
      b.setAttribute('form', '');
      b.onclick = (ev) => { ev.preventDefault(); form.requestSubmit(); };
      return b;
    },
  ]);
}

let fieldSeq = 0;
/** A labelled input: field('Name', {name: 'name', required: true}). `tag` may be select/textarea. */
export function field(label, attrs = {}, tag = 'input', ...children) {
  const id = attrs.id || 'f' + ++fieldSeq;
  const hint = attrs.hint;
  delete attrs.hint;
  const hintId = hint ? id + '-hint' : undefined;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h(tag, { id, ...attrs, 'aria-describedby': hintId }, ...children),
    hint ? h('small', { id: hintId, class: 'hint' }, hint) : null);
}

/** Options for a <select>: [[value, label], …] with one selected. */
export function options(pairs, selected) {
  return pairs.map(([v, l]) => h('option', { value: v, selected: String(v) === String(selected) }, l ?? v));
}

/** A button that copies `text` and says so. */
export function copyButton(text, label) {
  const b = h('button', { type: 'button', class: 'copy', 'aria-label': label || t('common.copy') }, t('common.copy'));
  b.onclick = async () => {
    try {
      await navigator.clipboard.writeText(typeof text === 'function' ? text() : text);
    } catch {
      // Non-secure origins (plain http on a LAN address) have no clipboard API.
      const ta = h('textarea', { style: { position: 'fixed', opacity: '0' } }, typeof text === 'function' ? text() : text);
      document.body.append(ta); ta.select(); document.execCommand('copy'); ta.remove();
    }
    b.textContent = t('common.copied');
    setTimeout(() => { b.textContent = t('common.copy'); }, 1500);
  };
  return b;
}

/**
 * A table: columns = [{label, cell: (row) => node|string, class?}]. Empty → a friendly line.
 * On narrow screens each row becomes a card; `data-label` carries the column name.
 */
export function table(columns, rows, { empty, onRow, caption } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty || t('common.empty'));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
    caption ? h('caption', { class: 'sr-only' }, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', {
      class: onRow ? 'clickable' : undefined,
      onclick: onRow ? (ev) => { if (!ev.target.closest('button,a,input,select')) onRow(r); } : undefined,
    }, columns.map((c) => h('td', { 'data-label': c.label, class: c.class }, c.cell(r))))))));
}

/** A status pill: ok / warn / bad / idle. */
export function pill(text, kind = 'idle') {
  return h('span', { class: 'pill ' + kind }, text);
}

/** Page header: title, optional subtitle and actions on the right. */
export function header(title, sub, ...actions) {
  return h('div', { class: 'page-head' },
    h('div', {}, h('h1', {}, title), sub ? h('p', { class: 'sub' }, sub) : null),
    h('div', { class: 'actions' }, actions));
}

/** Parse a comma/newline separated list typed by a person. */
export function list(s) {
  return String(s || '').split(/[\n,]/).map((x) => x.trim()).filter(Boolean);
}

addStrings({
  en: {
    'common.close': 'Close', 'common.cancel': 'Cancel', 'common.save': 'Save', 'common.copy': 'Copy',
    'common.copied': 'Copied', 'common.empty': 'Nothing here yet.', 'common.loading': 'Loading…',
    'common.delete': 'Delete', 'common.edit': 'Edit', 'common.enable': 'Enable', 'common.disable': 'Disable',
    'common.enabled': 'Enabled', 'common.disabled': 'Disabled', 'common.refresh': 'Refresh',
    'common.create': 'Create', 'common.search': 'Search', 'common.all': 'All', 'common.yes': 'Yes',
    'common.no': 'No', 'common.never': 'Never', 'common.confirm': 'Are you sure?',
    'common.prev': 'Previous', 'common.next': 'Next', 'common.details': 'Details', 'common.name': 'Name',
  },
  zh: {
    'common.close': '关闭', 'common.cancel': '取消', 'common.save': '保存', 'common.copy': '复制',
    'common.copied': '已复制', 'common.empty': '暂无数据。', 'common.loading': '加载中…',
    'common.delete': '删除', 'common.edit': '编辑', 'common.enable': '启用', 'common.disable': '禁用',
    'common.enabled': '已启用', 'common.disabled': '已禁用', 'common.refresh': '刷新',
    'common.create': '创建', 'common.search': '搜索', 'common.all': '全部', 'common.yes': '是',
    'common.no': '否', 'common.never': '永不', 'common.confirm': '确定吗？',
    'common.prev': '上一页', 'common.next': '下一页', 'common.details': '详情', 'common.name': '名称',
  },
});

// Logs: one row per relayed request, filtered by time, user, key, model, channel and status,
// paginated, with the full request detail on click. The filters live in the URL
// (#/logs?key_id=…&status=error) so other pages can link here and a view can be shared.

import {
  h, mount, t, addStrings, api, isAdmin, session, money, num, time, ago, pill, header, fail, table, dialog, field, options,
} from '../lib.js';

addStrings({
  en: {
    'nav.logs': 'Logs',
    'logs.sub': 'Every request through the relay: who, which model and channel, tokens, cost and timing.',
    'logs.sub_user': 'Every request you made: model, tokens, cost and timing.',
    'logs.range': 'Time', 'logs.r1h': 'Last hour', 'logs.r24h': 'Last 24 hours', 'logs.r7d': 'Last 7 days',
    'logs.r30d': 'Last 30 days', 'logs.rall': 'All time', 'logs.rcustom': 'Custom…',
    'logs.since': 'From', 'logs.until': 'To',
    'logs.user': 'User', 'logs.key': 'Key', 'logs.model': 'Model', 'logs.channel': 'Channel', 'logs.status': 'Status',
    'logs.any': 'Any', 'logs.st_ok': 'Success (2xx)', 'logs.st_error': 'Errors', 'logs.model_ph': 'Any model',
    'logs.clear': 'Clear filters', 'logs.live': 'Auto-refresh', 'logs.time': 'Time', 'logs.tokens': 'Tokens in / out',
    'logs.cost': 'Cost', 'logs.latency': 'Latency', 'logs.ttft': 'TTFT',
    'logs.total': '{n} requests · {cost} · {tin} in / {tout} out tokens', 'logs.page': 'Page {p} of {n}',
    'logs.per_page': 'Rows per page', 'logs.pages': 'Pages',
    'logs.empty': 'No requests match these filters.', 'logs.detail': 'Request {id}',
    'logs.request_id': 'Request ID', 'logs.endpoint': 'Endpoint', 'logs.stream': 'Streamed', 'logs.cached': 'Cached tokens',
    'logs.error': 'Error', 'logs.only_this': 'Filter by this', 'logs.deleted': '(deleted)',
    'logs.st_499': 'cut short',
  },
  zh: {
    'nav.logs': '日志',
    'logs.sub': '经过中转的每一次请求：用户、模型、渠道、Token、费用与耗时。',
    'logs.sub_user': '你的每一次请求：模型、Token、费用与耗时。',
    'logs.range': '时间', 'logs.r1h': '最近 1 小时', 'logs.r24h': '最近 24 小时', 'logs.r7d': '最近 7 天',
    'logs.r30d': '最近 30 天', 'logs.rall': '全部时间', 'logs.rcustom': '自定义…',
    'logs.since': '开始', 'logs.until': '结束',
    'logs.user': '用户', 'logs.key': '令牌', 'logs.model': '模型', 'logs.channel': '渠道', 'logs.status': '状态',
    'logs.any': '全部', 'logs.st_ok': '成功（2xx）', 'logs.st_error': '错误', 'logs.model_ph': '全部模型',
    'logs.clear': '清除筛选', 'logs.live': '自动刷新', 'logs.time': '时间', 'logs.tokens': '输入 / 输出 Token',
    'logs.cost': '费用', 'logs.latency': '耗时', 'logs.ttft': '首字时间',
    'logs.total': '{n} 次请求 · {cost} · 输入 {tin} / 输出 {tout} Token', 'logs.page': '第 {p} / {n} 页',
    'logs.per_page': '每页行数', 'logs.pages': '分页',
    'logs.empty': '没有符合筛选条件的请求。', 'logs.detail': '请求 {id}',
    'logs.request_id': '请求 ID', 'logs.endpoint': '接口', 'logs.stream': '流式', 'logs.cached': '缓存 Token',
    'logs.error': '错误信息', 'logs.only_this': '按此筛选', 'logs.deleted': '（已删除）',
    'logs.st_499': '中途断开',
  },
});

const HOUR = 3600 * 1000;
const RANGES = { '1h': HOUR, '24h': 24 * HOUR, '7d': 7 * 24 * HOUR, '30d': 30 * 24 * HOUR };
const STATUSES = ['ok', 'error', '400', '401', '403', '404', '429', '499', '500', '502', '503', '504'];
// Filters that map one to one onto GET /api/logs parameters.
const PARAMS = ['user_id', 'key_id', 'model', 'channel_id', 'status'];

/** <input type=datetime-local> value for a timestamp, in local time. */
function localInput(ms) {
  if (!ms) return '';
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

function ms(v) {
  return v === null || v === undefined ? '—' : `${num(v)} ms`;
}

function statusPill(s) {
  if (s >= 200 && s < 300) return pill(String(s), 'ok');
  if (s === 499) return pill(`499 ${t('logs.st_499')}`, 'warn');
  return pill(String(s), s === 429 ? 'warn' : 'bad');
}

export default {
  path: 'logs', title: 'nav.logs', admin: false, icon: '☰',
  async render(main, ctx) {
    const q = ctx.query;
    const f = Object.fromEntries(PARAMS.map((p) => [p, q.get(p) || '']));
    if (!isAdmin()) { f.user_id = ''; f.channel_id = ''; }
    const st = {
      f,
      range: q.get('since') || q.get('until') ? 'custom' : RANGES[q.get('range')] || q.get('range') === 'all' ? q.get('range') : '24h',
      since: Number(q.get('since')) || null, until: Number(q.get('until')) || null,
      limit: Number(q.get('limit')) || 50, offset: Number(q.get('offset')) || 0,
      names: { users: new Map(), keys: new Map(), channels: new Map() }, models: [], live: false,
    };
    let timer = null; // auto-refresh, off until the user turns it on
    const filters = h('form', { class: 'filters logs-filters', onsubmit: (e) => e.preventDefault() });
    const summary = h('p', { class: 'muted logs-summary', 'aria-live': 'polite' });
    const listBox = h('div', { class: 'logs-table' });
    const pager = h('nav', { class: 'pager', 'aria-label': t('logs.pages') });
    mount(main, header(t('nav.logs'), isAdmin() ? t('logs.sub') : t('logs.sub_user'),
      h('label', { class: 'check inline' }, h('input', { type: 'checkbox', onchange: (e) => setLive(e.target.checked) }), t('logs.live')),
      h('button', { type: 'button', onclick: () => load() }, t('common.refresh'))),
    filters, summary, listBox, pager);

    await loadNames();
    drawFilters();
    await load();
    return () => clearInterval(timer);

    function setLive(on) {
      clearInterval(timer);
      timer = on ? setInterval(() => { if (!document.querySelector('dialog[open]')) load(); }, 5000) : null;
    }

    /** Names for the ids in the rows and the filter menus; each list is best-effort. */
    async function loadNames() {
      const tasks = [
        api('/keys').then(({ data }) => data.forEach((k) => st.names.keys.set(k.id, k))),
        api('/prices').then(({ data }) => { st.models = data.map((p) => p.model).filter((m) => !m.endsWith('*')); }),
      ];
      if (isAdmin()) {
        tasks.push(api('/users', { query: { limit: 1000 } }).then(({ data }) => data.forEach((u) => st.names.users.set(u.id, u))));
        tasks.push(api('/channels').then(({ data }) => data.forEach((c) => st.names.channels.set(c.id, c))));
      }
      await Promise.all(tasks.map((p) => p.catch(() => {})));
    }

    function name(kind, id) {
      if (!id) return '—';
      if (kind === 'users' && id === session.user.id) return session.user.name;
      return st.names[kind].get(id)?.name || id;
    }

    function timeRange() {
      if (st.range === 'custom') return { since: st.since || undefined, until: st.until || undefined };
      if (st.range === 'all') return {};
      return { since: Date.now() - RANGES[st.range] };
    }

    function query() {
      return { ...st.f, ...timeRange(), limit: st.limit, offset: st.offset };
    }

    /** Keep the URL in step with the filters, without a hashchange (which would re-render). */
    function syncUrl() {
      const u = new URLSearchParams();
      for (const p of PARAMS) if (st.f[p]) u.set(p, st.f[p]);
      if (st.range === 'custom') { if (st.since) u.set('since', st.since); if (st.until) u.set('until', st.until); } else if (st.range !== '24h') u.set('range', st.range);
      if (st.offset) u.set('offset', st.offset);
      if (st.limit !== 50) u.set('limit', st.limit);
      const s = u.toString();
      history.replaceState(null, '', '#/logs' + (s ? '?' + s : ''));
    }

    function set(k, v) {
      st.f[k] = v;
      st.offset = 0;
      load();
    }

    function drawFilters() {
      const keyOpts = [...st.names.keys.values()]
        .filter((k) => !st.f.user_id || k.user_id === st.f.user_id)
        .map((k) => [k.id, isAdmin() && k.user_id !== session.user.id ? `${k.name} · ${name('users', k.user_id)}` : `${k.name} (${k.key_hint})`]);
      if (st.f.key_id && !st.names.keys.has(st.f.key_id)) keyOpts.push([st.f.key_id, st.f.key_id]);
      const statusOpts = [['', t('logs.any')], ...STATUSES.map((s) => [s, s === 'ok' ? t('logs.st_ok') : s === 'error' ? t('logs.st_error') : s])];
      if (st.f.status && !STATUSES.includes(st.f.status)) statusOpts.push([st.f.status, st.f.status]);
      const custom = st.range === 'custom';
      mount(filters,
        field(t('logs.range'), {
          onchange: (e) => { st.range = e.target.value; st.offset = 0; drawFilters(); load(); },
        }, 'select', options([...Object.keys(RANGES), 'all', 'custom'].map((r) => [r, t('logs.r' + r)]), st.range)),
        custom ? field(t('logs.since'), {
          type: 'datetime-local', value: localInput(st.since),
          onchange: (e) => { st.since = e.target.value ? new Date(e.target.value).getTime() : null; st.offset = 0; load(); },
        }) : null,
        custom ? field(t('logs.until'), {
          type: 'datetime-local', value: localInput(st.until),
          onchange: (e) => { st.until = e.target.value ? new Date(e.target.value).getTime() : null; st.offset = 0; load(); },
        }) : null,
        isAdmin() ? field(t('logs.user'), { onchange: (e) => { set('user_id', e.target.value); drawFilters(); } }, 'select',
          options([['', t('logs.any')], ...[...st.names.users.values()].map((u) => [u.id, u.name])], st.f.user_id)) : null,
        field(t('logs.key'), { onchange: (e) => set('key_id', e.target.value) }, 'select',
          options([['', t('logs.any')], ...keyOpts], st.f.key_id)),
        field(t('logs.model'), {
          value: st.f.model, list: 'logs-models', placeholder: t('logs.model_ph'), autocomplete: 'off',
          onchange: (e) => set('model', e.target.value.trim()),
        }),
        h('datalist', { id: 'logs-models' }, st.models.map((m) => h('option', { value: m }))),
        isAdmin() ? field(t('logs.channel'), { onchange: (e) => set('channel_id', e.target.value) }, 'select',
          options([['', t('logs.any')], ...[...st.names.channels.values()].map((c) => [c.id, c.name])], st.f.channel_id)) : null,
        field(t('logs.status'), { onchange: (e) => set('status', e.target.value) }, 'select', options(statusOpts, st.f.status)),
        h('button', {
          type: 'button', class: 'ghost',
          onclick: () => { PARAMS.forEach((p) => { st.f[p] = ''; }); st.range = '24h'; st.offset = 0; drawFilters(); load(); },
        }, t('logs.clear')));
    }

    async function load() {
      syncUrl();
      const qy = query();
      try {
        const [page, sum] = await Promise.all([
          api('/logs', { query: qy }),
          api('/logs/summary', { query: { ...qy, limit: undefined, offset: undefined } }).catch(() => null),
        ]);
        drawRows(page);
        mount(summary, sum ? t('logs.total', { n: num(sum.requests), cost: money(sum.cost_nano), tin: num(sum.tokens_in), tout: num(sum.tokens_out) }) : '');
      } catch (e) { fail(e); }
    }

    function drawRows(page) {
      const admin = isAdmin();
      mount(listBox, table([
        { label: t('logs.time'), cell: (r) => h('span', { title: time(r.ts), class: 'nowrap' }, time(r.ts)) },
        admin ? { label: t('logs.user'), cell: (r) => name('users', r.user_id) } : null,
        { label: t('logs.key'), cell: (r) => name('keys', r.key_id) },
        { label: t('logs.model'), cell: (r) => h('code', {}, r.model || '—') },
        admin ? { label: t('logs.channel'), cell: (r) => name('channels', r.channel_id) } : null,
        { label: t('logs.tokens'), class: 'num', cell: (r) => `${num(r.tokens_in)} / ${num(r.tokens_out)}` },
        { label: t('logs.cost'), class: 'num', cell: (r) => money(r.cost_nano) },
        { label: t('logs.latency'), class: 'num', cell: (r) => ms(r.latency_ms) },
        { label: t('logs.ttft'), class: 'num', cell: (r) => ms(r.ttft_ms) },
        { label: t('logs.status'), cell: (r) => statusPill(r.status) },
      ].filter(Boolean), page.data, { empty: t('logs.empty'), onRow: (r) => detail(r), caption: t('nav.logs') }));
      const pages = Math.max(1, Math.ceil(page.total / st.limit));
      const current = Math.floor(st.offset / st.limit) + 1;
      const go = (p) => { st.offset = (p - 1) * st.limit; load(); main.scrollIntoView?.({ block: 'start' }); };
      mount(pager,
        field(t('logs.per_page'), { onchange: (e) => { st.limit = Number(e.target.value); st.offset = 0; load(); } }, 'select',
          options([[20], [50], [100], [200]], st.limit)),
        h('span', { class: 'spacer' }),
        h('button', { type: 'button', disabled: current <= 1, onclick: () => go(current - 1) }, '‹ ' + t('common.prev')),
        h('span', { class: 'muted' }, t('logs.page', { p: num(current), n: num(pages) })),
        h('button', { type: 'button', disabled: current >= pages, onclick: () => go(current + 1) }, t('common.next') + ' ›'));
    }

    function filterLink(k, v, label) {
      if (!v) return label;
      return h('span', {}, label, ' ', h('button', {
        type: 'button', class: 'small ghost', 'aria-label': `${t('logs.only_this')}: ${label}`,
        onclick: (e) => { const d = e.currentTarget.closest('dialog'); d?.close(); d?.remove(); st.f[k] = String(v); st.offset = 0; drawFilters(); load(); },
      }, t('logs.only_this')));
    }

    function detail(r) {
      const admin = isAdmin();
      const rows = [
        [t('logs.request_id'), h('code', { class: 'break' }, r.id)],
        [t('logs.time'), `${time(r.ts)} (${ago(r.ts)})`],
        admin ? [t('logs.user'), filterLink('user_id', r.user_id, name('users', r.user_id))] : null,
        [t('logs.key'), filterLink('key_id', r.key_id, name('keys', r.key_id))],
        [t('logs.endpoint'), h('code', {}, r.endpoint || '—')],
        [t('logs.model'), filterLink('model', r.model, r.model || '—')],
        admin ? [t('logs.channel'), filterLink('channel_id', r.channel_id, name('channels', r.channel_id))] : null,
        [t('logs.stream'), r.stream ? t('common.yes') : t('common.no')],
        [t('logs.tokens'), `${num(r.tokens_in)} / ${num(r.tokens_out)}`],
        [t('logs.cached'), num(r.tokens_cached)],
        [t('logs.cost'), money(r.cost_nano)],
        [t('logs.latency'), ms(r.latency_ms)],
        [t('logs.ttft'), ms(r.ttft_ms)],
        [t('logs.status'), statusPill(r.status)],
      ].filter(Boolean);
      dialog(t('logs.detail', { id: r.id.length > 16 ? r.id.slice(0, 14) + '…' : r.id }), h('div', {},
        h('dl', { class: 'kv' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
        r.error ? [h('h3', {}, t('logs.error')), h('pre', { class: 'error-pre' }, r.error)] : null), [
        (close) => h('button', { type: 'button', class: 'primary', onclick: () => close() }, t('common.close')),
      ]);
    }
  },
};

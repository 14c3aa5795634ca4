// Dashboard: what the relay did over a chosen range (spend, requests, tokens, errors) as
// cards and charts from GET /api/logs/stats, the top models/channels/users/keys, and for
// admins the live health of every channel (refreshed every 10 s while the page is open).

import { h, mount, t, addStrings, api, isAdmin, money, num, pill, header, fail, table, lang } from '../lib.js';
import { timeChart, legend, barList } from '../chart.js';

addStrings({
  en: {
    'nav.dashboard': 'Dashboard',
    'dashboard.sub': 'Traffic, spend and channel health at a glance.',
    'dashboard.sub_user': 'Your traffic and spend at a glance.',
    'dashboard.range': 'Time range', 'dashboard.r24h': '24 hours', 'dashboard.r7d': '7 days', 'dashboard.r30d': '30 days',
    'dashboard.spend': 'Spend', 'dashboard.requests': 'Requests', 'dashboard.tokens': 'Tokens',
    'dashboard.error_rate': 'Error rate', 'dashboard.balance': 'Your balance',
    'dashboard.tokens_detail': '{in} in · {out} out', 'dashboard.errors_detail': '{n} errors',
    'dashboard.held': '{amount} held for requests in flight', 'dashboard.used': '{amount} used in total',
    'dashboard.chart_requests': 'Requests and errors', 'dashboard.chart_spend': 'Spend',
    'dashboard.chart_tokens': 'Tokens', 'dashboard.errors': 'Errors',
    'dashboard.tokens_in': 'Input tokens', 'dashboard.tokens_out': 'Output tokens',
    'dashboard.top_models': 'Top models', 'dashboard.top_channels': 'Top channels',
    'dashboard.top_users': 'Top users', 'dashboard.top_keys': 'Top keys',
    'dashboard.metric': 'Rank by', 'dashboard.by_spend': 'Spend', 'dashboard.by_requests': 'Requests',
    'dashboard.by_tokens': 'Tokens', 'dashboard.no_traffic': 'No requests in this range.',
    'dashboard.health': 'Channel health', 'dashboard.health_sub': 'Live; refreshed every 10 seconds.',
    'dashboard.channel': 'Channel', 'dashboard.status': 'Status', 'dashboard.recent': 'Recent failures',
    'dashboard.reason': 'Reason', 'dashboard.benched': 'Benched for {s} s',
    'dashboard.st_enabled': 'Enabled', 'dashboard.st_disabled': 'Disabled', 'dashboard.st_auto_disabled': 'Auto-disabled',
    'dashboard.no_channels': 'No channels yet. Add one on the Channels page.',
    'dashboard.updated': 'Updated {time}',
  },
  zh: {
    'nav.dashboard': '仪表盘',
    'dashboard.sub': '流量、消费与渠道健康状况一览。',
    'dashboard.sub_user': '你的调用与消费一览。',
    'dashboard.range': '时间范围', 'dashboard.r24h': '24 小时', 'dashboard.r7d': '7 天', 'dashboard.r30d': '30 天',
    'dashboard.spend': '消费', 'dashboard.requests': '请求数', 'dashboard.tokens': 'Token 用量',
    'dashboard.error_rate': '错误率', 'dashboard.balance': '我的余额',
    'dashboard.tokens_detail': '输入 {in} · 输出 {out}', 'dashboard.errors_detail': '{n} 次错误',
    'dashboard.held': '进行中的请求预扣 {amount}', 'dashboard.used': '累计已用 {amount}',
    'dashboard.chart_requests': '请求与错误', 'dashboard.chart_spend': '消费',
    'dashboard.chart_tokens': 'Token 用量', 'dashboard.errors': '错误',
    'dashboard.tokens_in': '输入 Token', 'dashboard.tokens_out': '输出 Token',
    'dashboard.top_models': '模型排行', 'dashboard.top_channels': '渠道排行',
    'dashboard.top_users': '用户排行', 'dashboard.top_keys': '令牌排行',
    'dashboard.metric': '排序依据', 'dashboard.by_spend': '消费', 'dashboard.by_requests': '请求数',
    'dashboard.by_tokens': 'Token', 'dashboard.no_traffic': '该时间范围内没有请求。',
    'dashboard.health': '渠道健康', 'dashboard.health_sub': '实时状态，每 10 秒刷新。',
    'dashboard.channel': '渠道', 'dashboard.status': '状态', 'dashboard.recent': '近期失败',
    'dashboard.reason': '原因', 'dashboard.benched': '暂停调度 {s} 秒',
    'dashboard.st_enabled': '已启用', 'dashboard.st_disabled': '已禁用', 'dashboard.st_auto_disabled': '已自动禁用',
    'dashboard.no_channels': '还没有渠道，请到“渠道”页面添加。',
    'dashboard.updated': '更新于 {time}',
  },
});

const HOUR = 3600 * 1000;
const RANGES = { '24h': 24 * HOUR, '7d': 7 * 24 * HOUR, '30d': 30 * 24 * HOUR };
const METRICS = {
  spend: { get: (r) => r.cost_nano, fmt: money },
  requests: { get: (r) => r.requests, fmt: num },
  tokens: { get: (r) => r.tokens_in + r.tokens_out, fmt: compact },
};

/** 1234567 → 1.2M: chart axes and token cards stay short. */
function compact(n) {
  return new Intl.NumberFormat(lang() === 'zh' ? 'zh-CN' : 'en', { notation: 'compact', maximumFractionDigits: 1 }).format(n || 0);
}

/** Money on a chart axis: fewer digits than money() so labels fit. */
function axisMoney(nano) {
  const d = nano / 1e9;
  if (d === 0) return '$0';
  return '$' + (d >= 100 ? d.toFixed(0) : d >= 1 ? d.toFixed(2) : d >= 0.01 ? d.toFixed(3) : d.toPrecision(2));
}

export default {
  path: 'dashboard', title: 'nav.dashboard', admin: false, icon: '▦',
  async render(main) {
    const state = {
      range: RANGES[localStorage.getItem('sy.dash.range')] ? localStorage.getItem('sy.dash.range') : '24h',
      metric: METRICS[localStorage.getItem('sy.dash.metric')] ? localStorage.getItem('sy.dash.metric') : 'spend',
      stats: null,
    };
    const cards = h('div', { class: 'cards', 'aria-live': 'polite' });
    const charts = h('div', { class: 'dash-charts' });
    const tops = h('div', {});
    const health = h('section', { class: 'panel', 'aria-labelledby': 'dash-health-h' });
    const rangeBox = h('div', { class: 'seg', role: 'group', 'aria-label': t('dashboard.range') });
    const drawRange = () => mount(rangeBox, Object.keys(RANGES).map((r) => h('button', {
      type: 'button', class: 'small', 'aria-pressed': String(r === state.range),
      onclick: () => { state.range = r; localStorage.setItem('sy.dash.range', r); drawRange(); load(); },
    }, t('dashboard.r' + r))));
    drawRange();

    mount(main,
      header(t('nav.dashboard'), isAdmin() ? t('dashboard.sub') : t('dashboard.sub_user'), rangeBox,
        h('button', { type: 'button', class: 'small', onclick: () => { load(); if (isAdmin()) loadHealth(); } }, t('common.refresh'))),
      cards, charts, tops, isAdmin() ? health : null);

    let alive = true;
    async function load() {
      const until = Date.now();
      try {
        const [stats, me] = await Promise.all([
          api('/logs/stats', { query: { since: until - RANGES[state.range], until } }),
          api('/me').catch(() => null),
        ]);
        if (!alive) return;
        state.stats = stats;
        drawCards(cards, stats, me);
        drawCharts(charts, stats, state.range);
        drawTops();
      } catch (e) { fail(e); }
    }
    function drawTops() { drawTopLists(tops, state.stats, state.metric, (m) => { state.metric = m; localStorage.setItem('sy.dash.metric', m); drawTops(); }); }

    async function loadHealth() {
      try {
        const { data } = await api('/channels');
        if (alive) drawHealth(health, data);
      } catch (e) {
        // A failed background refresh should not spam toasts every 10 s: say it once inline.
        if (alive) mount(health, h('h2', { id: 'dash-health-h' }, t('dashboard.health')), h('p', { class: 'form-error' }, e.message));
      }
    }

    mount(cards, h('p', { class: 'muted' }, t('common.loading')));
    const first = [load()];
    let timer = null;
    if (isAdmin()) {
      first.push(loadHealth());
      timer = setInterval(loadHealth, 10000);
    }
    await Promise.all(first);
    return () => { alive = false; if (timer) clearInterval(timer); };
  },
};

function card(label, value, detail, kind) {
  return h('div', { class: 'card' + (kind ? ' ' + kind : '') },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value),
    detail ? h('div', { class: 'detail muted' }, detail) : null);
}

function drawCards(box, stats, me) {
  const tot = stats.totals || {};
  const errors = (stats.series || []).reduce((a, b) => a + (b.errors || 0), 0);
  const rate = tot.requests ? (100 * errors) / tot.requests : 0;
  mount(box,
    card(t('dashboard.spend'), money(tot.cost_nano)),
    card(t('dashboard.requests'), num(tot.requests)),
    card(t('dashboard.tokens'), compact((tot.tokens_in || 0) + (tot.tokens_out || 0)),
      t('dashboard.tokens_detail', { in: compact(tot.tokens_in), out: compact(tot.tokens_out) })),
    card(t('dashboard.error_rate'), rate.toFixed(rate && rate < 10 ? 1 : 0) + '%',
      t('dashboard.errors_detail', { n: num(errors) }), rate >= 5 ? 'bad' : ''),
    me ? card(t('dashboard.balance'), money(me.balance_nano),
      me.held_nano ? t('dashboard.held', { amount: money(me.held_nano) }) : t('dashboard.used', { amount: money(me.used_nano) })) : null);
}

/**
 * The API only returns buckets that had traffic; fill the gaps with zeros so the x axis is
 * real time and an idle night shows as idle.
 */
function fillSeries(stats) {
  const b = stats.bucket_secs * 1000;
  const byKey = new Map((stats.series || []).map((p) => [Number(p.key), p]));
  const out = [];
  const start = Math.floor(stats.since / b) * b;
  for (let at = start; at < stats.until && out.length < 2001; at += b) {
    const p = byKey.get(at) || {};
    out.push({ t: at, requests: p.requests || 0, errors: p.errors || 0, cost_nano: p.cost_nano || 0, tokens_in: p.tokens_in || 0, tokens_out: p.tokens_out || 0 });
  }
  // Buckets the API aligned differently (should not happen) are still shown.
  if (byKey.size && !out.some((p) => p.requests)) {
    return [...byKey.values()].map((p) => ({ ...p, t: Number(p.key) })).sort((a, c) => a.t - c.t);
  }
  return out;
}

function timeLabeler(range) {
  const loc = lang() === 'zh' ? 'zh-CN' : 'en-GB';
  const opts = range === '24h' ? { hour: '2-digit', minute: '2-digit' }
    : range === '7d' ? { month: 'numeric', day: 'numeric', hour: '2-digit' } : { month: 'numeric', day: 'numeric' };
  const f = new Intl.DateTimeFormat(loc, opts);
  return (ms) => f.format(new Date(ms));
}

function chartPanel(title, series, points, format, range) {
  return h('section', { class: 'panel' },
    h('h2', {}, title), legend(series),
    timeChart({ points, series, format, timeLabel: timeLabeler(range), title }));
}

function drawCharts(box, stats, range) {
  const points = fillSeries(stats);
  // Requests get the full width (the busiest chart); spend and tokens share a row.
  mount(box,
    chartPanel(t('dashboard.chart_requests'), [
      { key: 'requests', label: t('dashboard.requests'), kind: 'bar' },
      { key: 'errors', label: t('dashboard.errors'), kind: 'bar', color: '#cf222e' },
    ], points, compact, range),
    h('div', { class: 'grid2 dash-pair' }, chartPanel(t('dashboard.chart_spend'), [{ key: 'cost_nano', label: t('dashboard.spend'), kind: 'line', color: '#1a7f37' }],
      points, axisMoney, range),
    chartPanel(t('dashboard.chart_tokens'), [
      { key: 'tokens_in', label: t('dashboard.tokens_in'), kind: 'bar', color: '#8957e5' },
      { key: 'tokens_out', label: t('dashboard.tokens_out'), kind: 'bar', color: '#0a7ea4' },
    ], points, compact, range)));
}

function drawTopLists(box, stats, metric, onMetric) {
  if (!stats) return;
  const m = METRICS[metric];
  const lists = [
    ['dashboard.top_models', stats.by_model],
    ['dashboard.top_channels', stats.by_channel],
    ['dashboard.top_users', stats.by_user],
    ['dashboard.top_keys', stats.by_key],
  ].filter(([, rows]) => rows);
  const picker = h('div', { class: 'seg', role: 'group', 'aria-label': t('dashboard.metric') },
    Object.keys(METRICS).map((k) => h('button', {
      type: 'button', class: 'small', 'aria-pressed': String(k === metric), onclick: () => onMetric(k),
    }, t('dashboard.by_' + k))));
  mount(box,
    h('div', { class: 'dash-tops-head' }, h('span', { class: 'muted' }, t('dashboard.metric')), picker),
    h('div', { class: 'grid2 dash-tops' }, lists.map(([title, rows]) => {
      const sorted = [...rows].map((r) => ({ label: r.name || r.key || '—', value: m.get(r) || 0 }))
        .sort((a, b) => b.value - a.value);
      return h('section', { class: 'panel', 'aria-label': t(title) }, h('h2', {}, t(title)),
        sorted.length ? barList(sorted, m.fmt) : h('p', { class: 'muted' }, t('dashboard.no_traffic')));
    })));
}

const STATUS_KIND = { enabled: 'ok', disabled: 'idle', auto_disabled: 'bad' };

function drawHealth(box, channels) {
  const rows = [...channels].sort((a, b) => (STATUS_KIND[a.status] === 'bad' ? -1 : 0) - (STATUS_KIND[b.status] === 'bad' ? -1 : 0));
  mount(box,
    h('div', { class: 'page-head' },
      h('div', {}, h('h2', { id: 'dash-health-h' }, t('dashboard.health')), h('p', { class: 'sub' }, t('dashboard.health_sub'))),
      h('span', { class: 'muted small-text' }, t('dashboard.updated', { time: new Date().toLocaleTimeString(lang() === 'zh' ? 'zh-CN' : 'en-GB') }))),
    table([
      { label: t('dashboard.channel'), cell: (c) => h('a', { href: '#/channels' }, c.name) },
      { label: t('dashboard.status'), cell: (c) => healthPill(c) },
      {
        label: t('dashboard.recent'), class: 'num',
        cell: (c) => `${c.health?.recent_failures ?? 0} / ${c.health?.recent_requests ?? 0}`,
      },
      { label: t('dashboard.reason'), cell: (c) => (c.status_reason ? h('span', { class: 'reason' }, c.status_reason) : '—') },
    ], rows, { empty: t('dashboard.no_channels'), caption: t('dashboard.health') }));
}

function healthPill(c) {
  const benched = c.health?.benched_for_secs;
  return h('span', { class: 'pills' },
    pill(t('dashboard.st_' + c.status), STATUS_KIND[c.status] || 'idle'),
    benched ? pill(t('dashboard.benched', { s: benched }), 'warn') : null,
    !benched && c.status === 'enabled' && c.health?.recent_failures ? pill(`${c.health.recent_failures}×`, 'warn') : null);
}

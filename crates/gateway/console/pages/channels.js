// Channels (admins): the upstream providers. A list with status (and why a channel was
// switched off automatically), latency and the last test; a detail view with recent errors;
// add/edit with provider presets from GET /api/channels/kinds; test one or all; enable,
// disable, delete. Upstream keys are write-only: the API only ever shows hints.

import {
  h, mount, t, addStrings, api, money, num, time, ago, pill, header, fail, toast, table, dialog,
  formDialog, field, options, list,
} from '../lib.js';

addStrings({
  en: {
    'nav.channels': 'Channels',
    'channels.sub': 'Upstream providers: their keys, models and health.',
    'channels.add': 'Add channel', 'channels.test_all': 'Test all', 'channels.testing': 'Testing…',
    'channels.search': 'Search channels', 'channels.search_ph': 'Name, model or kind',
    'channels.filter_status': 'Status', 'channels.name': 'Name', 'channels.kind': 'Kind',
    'channels.status': 'Status', 'channels.models': 'Models', 'channels.prio': 'Priority / weight',
    'channels.latency': 'Latency (24 h)', 'channels.last_test': 'Last test', 'channels.actions': 'Actions',
    'channels.st_enabled': 'Enabled', 'channels.st_disabled': 'Disabled', 'channels.st_auto_disabled': 'Auto-disabled',
    'channels.test': 'Test', 'channels.more_models': '+{n} more', 'channels.never_tested': 'Not tested',
    'channels.test_ok': 'OK · {ms} ms', 'channels.test_fail': 'Failed', 'channels.test_result': '{name}: {result}',
    'channels.all_tested': 'Tested {n} channels: {ok} OK, {bad} failed.',
    'channels.benched': 'benched {s} s', 'channels.health': '{f} of last {n} failed',
    'channels.requests_24h': '{n} requests in 24 h',
    'channels.confirm_delete': 'Delete the channel "{name}"? Requests will no longer be routed to it. This cannot be undone.',
    'channels.deleted': 'Channel deleted.', 'channels.saved': 'Channel saved.',
    'channels.enabled_msg': 'Channel enabled.', 'channels.disabled_msg': 'Channel disabled.',
    'channels.edit_title': 'Edit channel {name}', 'channels.add_title': 'Add a channel',
    'channels.f_kind': 'Provider', 'channels.f_kind_hint': 'A preset fills in the base URL and suggests models.',
    'channels.f_name': 'Name', 'channels.f_base_url': 'Base URL',
    'channels.f_base_url_hint': 'With or without a trailing /v1. Leave empty to use the preset\'s: {url}',
    'channels.f_base_url_hint_none': 'http:// or https://, with or without a trailing /v1.',
    'channels.f_keys': 'Upstream keys', 'channels.f_keys_hint': 'One key per line; one is picked at random per request.',
    'channels.f_keys_edit_hint': 'Stored: {hints}. Leave empty to keep them; anything typed here replaces all keys.',
    'channels.f_keys_none': 'no keys',
    'channels.f_models': 'Models', 'channels.f_models_hint': 'Comma or newline separated; prefix* patterns allowed.',
    'channels.suggest': 'Use suggested models', 'channels.f_model_map': 'Model mapping',
    'channels.f_model_map_hint': 'One per line: name-users-send=name-the-provider-expects',
    'channels.f_groups': 'Groups', 'channels.f_groups_hint': 'User groups served; empty = every group.',
    'channels.f_priority': 'Priority', 'channels.f_priority_hint': 'Higher tiers are tried first.',
    'channels.f_weight': 'Weight', 'channels.f_weight_hint': 'Share of traffic within a tier; 0 = last resort.',
    'channels.f_test_model': 'Test model', 'channels.f_test_model_hint': 'Default: the first exact model.',
    'channels.f_enabled': 'Enabled', 'channels.bad_map': 'Mapping line "{line}" is not name=name.',
    'channels.need_models': 'Give at least one model.', 'channels.need_keys': 'This provider needs at least one key.',
    'channels.detail': 'Channel {name}', 'channels.base_url': 'Base URL', 'channels.keys': 'Keys',
    'channels.model_map': 'Model mapping', 'channels.groups': 'Groups', 'channels.test_model': 'Test model',
    'channels.created': 'Created', 'channels.updated': 'Updated', 'channels.reason': 'Reason',
    'channels.recent_errors': 'Recent errors', 'channels.no_errors': 'No errors logged.',
    'channels.all_logs': 'All requests of this channel', 'channels.usage_24h': 'Last 24 hours',
    'channels.balance': 'Balance', 'channels.balance_refresh': 'Ask the provider for the balance',
    'channels.balance_unknown': 'Not asked',
    'channels.spend': 'Spend', 'channels.requests': 'Requests', 'channels.errors': 'Errors',
    'channels.empty': 'No channels yet. Add one to start relaying.', 'channels.none_match': 'No channel matches.',
    'channels.error_status': 'Status {s}',
  },
  zh: {
    'nav.channels': '渠道',
    'channels.sub': '上游供应商：密钥、模型与健康状况。',
    'channels.add': '添加渠道', 'channels.test_all': '测试全部', 'channels.testing': '测试中…',
    'channels.search': '搜索渠道', 'channels.search_ph': '名称、模型或类型',
    'channels.filter_status': '状态', 'channels.name': '名称', 'channels.kind': '类型',
    'channels.status': '状态', 'channels.models': '模型', 'channels.prio': '优先级 / 权重',
    'channels.latency': '延迟（24 小时）', 'channels.last_test': '最近测试', 'channels.actions': '操作',
    'channels.st_enabled': '已启用', 'channels.st_disabled': '已禁用', 'channels.st_auto_disabled': '已自动禁用',
    'channels.test': '测试', 'channels.more_models': '另 {n} 个', 'channels.never_tested': '未测试',
    'channels.test_ok': '正常 · {ms} 毫秒', 'channels.test_fail': '失败', 'channels.test_result': '{name}：{result}',
    'channels.all_tested': '已测试 {n} 个渠道：{ok} 个正常，{bad} 个失败。',
    'channels.benched': '暂停 {s} 秒', 'channels.health': '最近 {n} 次中失败 {f} 次',
    'channels.requests_24h': '24 小时内 {n} 次请求',
    'channels.confirm_delete': '删除渠道“{name}”？请求将不再路由到它，且无法恢复。',
    'channels.deleted': '渠道已删除。', 'channels.saved': '渠道已保存。',
    'channels.enabled_msg': '渠道已启用。', 'channels.disabled_msg': '渠道已禁用。',
    'channels.edit_title': '编辑渠道 {name}', 'channels.add_title': '添加渠道',
    'channels.f_kind': '供应商', 'channels.f_kind_hint': '选择预设会自动填入 Base URL 并推荐模型。',
    'channels.f_name': '名称', 'channels.f_base_url': 'Base URL',
    'channels.f_base_url_hint': '结尾带不带 /v1 均可。留空则使用预设地址：{url}',
    'channels.f_base_url_hint_none': 'http:// 或 https://，结尾带不带 /v1 均可。',
    'channels.f_keys': '上游密钥', 'channels.f_keys_hint': '每行一个密钥；每次请求随机选用一个。',
    'channels.f_keys_edit_hint': '已保存：{hints}。留空则保持不变；填写内容将替换全部密钥。',
    'channels.f_keys_none': '无密钥',
    'channels.f_models': '模型', 'channels.f_models_hint': '用逗号或换行分隔；支持 前缀* 通配。',
    'channels.suggest': '填入推荐模型', 'channels.f_model_map': '模型重定向',
    'channels.f_model_map_hint': '每行一条：用户请求的模型名=上游实际模型名',
    'channels.f_groups': '分组', 'channels.f_groups_hint': '服务的用户分组；留空表示所有分组。',
    'channels.f_priority': '优先级', 'channels.f_priority_hint': '数值越大越优先。',
    'channels.f_weight': '权重', 'channels.f_weight_hint': '同优先级内的流量占比；0 表示兜底。',
    'channels.f_test_model': '测试模型', 'channels.f_test_model_hint': '默认使用第一个非通配模型。',
    'channels.f_enabled': '启用', 'channels.bad_map': '重定向“{line}”不是 名称=名称 的格式。',
    'channels.need_models': '至少填写一个模型。', 'channels.need_keys': '该供应商至少需要一个密钥。',
    'channels.detail': '渠道 {name}', 'channels.base_url': 'Base URL', 'channels.keys': '密钥',
    'channels.model_map': '模型重定向', 'channels.groups': '分组', 'channels.test_model': '测试模型',
    'channels.created': '创建时间', 'channels.updated': '更新时间', 'channels.reason': '原因',
    'channels.recent_errors': '最近错误', 'channels.no_errors': '没有错误记录。',
    'channels.all_logs': '查看该渠道的全部日志', 'channels.usage_24h': '最近 24 小时',
    'channels.balance': '余额', 'channels.balance_refresh': '向上游查询余额', 'channels.balance_unknown': '未查询',
    'channels.spend': '消费', 'channels.requests': '请求数', 'channels.errors': '错误',
    'channels.empty': '还没有渠道，添加一个即可开始转发。', 'channels.none_match': '没有匹配的渠道。',
    'channels.error_status': '状态码 {s}',
  },
});

// The API has no per-kind model list; these are the models operators most often put on
// each provider, offered as a starting point (they can be edited before saving).
const SUGGESTED = {
  openai: ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'o4-mini', 'text-embedding-3-small', 'text-embedding-3-large'],
  azure: ['gpt-4o', 'gpt-4o-mini'],
  anthropic: ['claude-sonnet-4-5', 'claude-opus-4-1', 'claude-3-5-haiku-latest'],
  gemini: ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.0-flash'],
  deepseek: ['deepseek-chat', 'deepseek-reasoner'],
  qwen: ['qwen-max', 'qwen-plus', 'qwen-turbo'],
  moonshot: ['kimi-k2-0711-preview', 'moonshot-v1-8k', 'moonshot-v1-32k'],
  zhipu: ['glm-4-plus', 'glm-4-air', 'glm-4-flash'],
  groq: ['llama-3.3-70b-versatile', 'llama-3.1-8b-instant'],
  mistral: ['mistral-large-latest', 'mistral-small-latest', 'codestral-latest'],
  xai: ['grok-4', 'grok-3-mini'],
  openrouter: ['openai/gpt-4o-mini', 'anthropic/claude-sonnet-4.5', 'google/gemini-2.5-flash'],
  siliconflow: ['deepseek-ai/DeepSeek-V3', 'Qwen/Qwen2.5-72B-Instruct'],
  ollama: ['llama3.2', 'qwen2.5'],
  runway: ['runway-video'], luma: ['luma-video'], 'luma-legacy': ['luma-relay-video'],
  kling: ['kling-video'], 'openai-video': ['sora-2'], veo: ['veo-3'],
};

const STATUS_KIND = { enabled: 'ok', disabled: 'idle', auto_disabled: 'bad' };
// Kinds that answer the OpenAI-compatible billing view, so a balance can be asked for.
const NO_BALANCE = new Set(['azure', 'anthropic', 'gemini', 'runway', 'luma', 'luma-legacy', 'kling', 'openai-video', 'veo']);

export default {
  path: 'channels', title: 'nav.channels', admin: true, icon: '⇄',
  async render(main) {
    const st = { channels: [], kinds: [], stats: new Map(), q: '', status: '' };
    const listBox = h('div', {});
    const testAllBtn = h('button', { type: 'button', onclick: () => testAll() }, t('channels.test_all'));

    const search = field(t('channels.search'), {
      type: 'search', placeholder: t('channels.search_ph'),
      oninput: (e) => { st.q = e.target.value.trim().toLowerCase(); draw(); },
    });
    const statusSel = field(t('channels.filter_status'), { onchange: (e) => { st.status = e.target.value; draw(); } }, 'select',
      options([['', t('common.all')], ['enabled', t('channels.st_enabled')], ['disabled', t('channels.st_disabled')],
        ['auto_disabled', t('channels.st_auto_disabled')]], ''));

    mount(main,
      header(t('nav.channels'), t('channels.sub'),
        h('button', { type: 'button', class: 'primary', onclick: () => edit(null) }, t('channels.add')),
        testAllBtn,
        h('button', { type: 'button', onclick: () => load() }, t('common.refresh'))),
      h('div', { class: 'filters' }, search, statusSel),
      listBox);

    async function load() {
      try {
        const since = Date.now() - 24 * 3600 * 1000;
        const [chs, stats] = await Promise.all([
          api('/channels'),
          api('/logs/stats', { query: { since } }).catch(() => null),
        ]);
        st.channels = chs.data;
        st.stats = new Map((stats?.by_channel || []).map((b) => [b.key, b]));
        draw();
      } catch (e) { fail(e); }
    }

    function visible() {
      return st.channels.filter((c) => (!st.status || c.status === st.status) && (!st.q
        || [c.name, c.kind, c.id, ...(c.models || [])].some((s) => String(s).toLowerCase().includes(st.q))));
    }

    function draw() {
      const rows = visible();
      mount(listBox, table([
        {
          label: t('channels.name'),
          cell: (c) => h('div', {}, h('strong', {}, c.name), h('div', { class: 'muted small-text' }, h('code', {}, c.kind), ' · ', h('span', { class: 'mono' }, c.id))),
        },
        { label: t('channels.status'), cell: (c) => statusCell(c) },
        { label: t('channels.models'), cell: (c) => modelsCell(c.models || []) },
        { label: t('channels.prio'), class: 'num', cell: (c) => `${c.priority} / ${c.weight}` },
        { label: t('channels.latency'), class: 'num', cell: (c) => latencyCell(st.stats.get(c.id)) },
        { label: t('channels.last_test'), cell: (c) => testCell(c.last_test) },
        { label: t('channels.balance'), class: 'num', cell: (c) => balanceCell(c) },
        { label: t('channels.actions'), cell: (c) => actions(c) },
      ], rows, {
        empty: st.channels.length ? t('channels.none_match') : t('channels.empty'),
        onRow: (c) => detail(c), caption: t('nav.channels'),
      }));
    }

    function actions(c) {
      const testBtn = h('button', { type: 'button', class: 'small', 'aria-label': `${t('channels.test')} ${c.name}` }, t('channels.test'));
      testBtn.onclick = () => testOne(c, testBtn);
      return h('div', { class: 'actions row-actions' },
        testBtn,
        h('button', {
          type: 'button', class: 'small', 'aria-label': `${c.enabled ? t('common.disable') : t('common.enable')} ${c.name}`,
          onclick: () => setEnabled(c, !c.enabled),
        }, c.enabled ? t('common.disable') : t('common.enable')),
        h('button', { type: 'button', class: 'small', 'aria-label': `${t('common.edit')} ${c.name}`, onclick: () => edit(c) }, t('common.edit')),
        h('button', { type: 'button', class: 'small danger', 'aria-label': `${t('common.delete')} ${c.name}`, onclick: () => remove(c) }, t('common.delete')));
    }

    async function testOne(c, btn) {
      if (btn) { btn.disabled = true; btn.textContent = t('channels.testing'); }
      try {
        const r = await api(`/channels/${encodeURIComponent(c.id)}/test`, { method: 'POST', body: {} });
        toast(t('channels.test_result', { name: c.name, result: r.ok ? t('channels.test_ok', { ms: r.latency_ms }) : `${t('channels.test_fail')}: ${r.error || r.status}` }), r.ok ? 'ok' : 'error');
        await load(); // a refused key auto-disables the channel: show that at once
      } catch (e) { fail(e); if (btn) { btn.disabled = false; btn.textContent = t('channels.test'); } }
    }

    async function testAll() {
      testAllBtn.disabled = true;
      testAllBtn.textContent = t('channels.testing');
      try {
        const { data } = await api('/channels/test', { method: 'POST', body: {} });
        const ok = data.filter((r) => r.ok).length;
        toast(t('channels.all_tested', { n: data.length, ok, bad: data.length - ok }), ok === data.length ? 'ok' : 'error');
        await load();
      } catch (e) { fail(e); } finally {
        testAllBtn.disabled = false;
        testAllBtn.textContent = t('channels.test_all');
      }
    }

    function balanceCell(c) {
      if (NO_BALANCE.has(c.kind)) return h('span', { class: 'muted' }, '—');
      const btn = h('button', {
        type: 'button', class: 'small', title: t('channels.balance_refresh'),
        'aria-label': `${t('channels.balance_refresh')}: ${c.name}`,
      }, '↻');
      btn.onclick = async (e) => {
        e.stopPropagation();
        btn.disabled = true;
        try {
          await api(`/channels/${encodeURIComponent(c.id)}/balance`, { method: 'POST', body: {} });
          await load();
        } catch (err) { fail(err); btn.disabled = false; }
      };
      const known = c.balance_nano != null;
      return h('div', {},
        known ? h('span', { class: c.balance_nano < 0 ? 'bad-text' : '' }, money(c.balance_nano)) : h('span', { class: 'muted' }, t('channels.balance_unknown')),
        ' ', btn,
        known ? h('div', { class: 'muted small-text' }, ago(c.balance_at)) : null);
    }

    async function setEnabled(c, enabled) {
      try {
        await api(`/channels/${encodeURIComponent(c.id)}`, { method: 'PATCH', body: { enabled } });
        toast(enabled ? t('channels.enabled_msg') : t('channels.disabled_msg'));
        await load();
      } catch (e) { fail(e); }
    }

    async function remove(c) {
      const yes = await dialog(t('common.delete'), h('p', {}, t('channels.confirm_delete', { name: c.name })), [
        (close) => h('button', { type: 'button', onclick: () => close(false) }, t('common.cancel')),
        (close) => h('button', { type: 'button', class: 'primary danger-fill', onclick: () => close(true) }, t('common.delete')),
      ]);
      if (!yes) return;
      try {
        await api(`/channels/${encodeURIComponent(c.id)}`, { method: 'DELETE' });
        toast(t('channels.deleted'));
        await load();
      } catch (e) { fail(e); }
    }

    async function edit(c) {
      if (!st.kinds.length) {
        try { st.kinds = (await api('/channels/kinds')).data; } catch (e) { return fail(e); }
      }
      const saved = await channelForm(c, st.kinds);
      if (saved) { toast(t('channels.saved')); await load(); }
    }

    async function detail(c) {
      const errorsBox = h('div', {}, h('p', { class: 'muted' }, t('common.loading')));
      const s = st.stats.get(c.id);
      const testBtn = h('button', { type: 'button' }, t('channels.test'));
      testBtn.onclick = async () => { await testOne(c, testBtn); close?.(); };
      let close;
      const body = h('div', {},
        h('dl', { class: 'kv' },
          kv(t('channels.status'), statusCell(c)),
          kv(t('channels.kind'), h('code', {}, c.kind)),
          kv(t('channels.base_url'), h('code', { class: 'break' }, c.base_url || '—')),
          kv(t('channels.keys'), c.keys?.length ? c.keys.join(', ') : t('channels.f_keys_none')),
          kv(t('channels.models'), (c.models || []).join(', ')),
          kv(t('channels.model_map'), Object.entries(c.model_map || {}).map(([a, b]) => `${a} → ${b}`).join(', ') || '—'),
          kv(t('channels.groups'), (c.groups || []).join(', ') || t('common.all')),
          kv(t('channels.prio'), `${c.priority} / ${c.weight}`),
          kv(t('channels.test_model'), c.test_model || '—'),
          kv(t('channels.last_test'), testCell(c.last_test, true)),
          kv(t('channels.balance'), NO_BALANCE.has(c.kind) ? '—' : (c.balance_nano != null ? `${money(c.balance_nano)} · ${ago(c.balance_at)}` : t('channels.balance_unknown'))),
          kv(t('channels.usage_24h'), s ? `${num(s.requests)} ${t('channels.requests')} · ${num(s.errors)} ${t('channels.errors')} · ${money(s.cost_nano)} · ${num(s.latency_ms)} ms` : '—'),
          kv(t('channels.created'), time(c.created_at)),
          kv(t('channels.updated'), time(c.updated_at))),
        h('h3', {}, t('channels.recent_errors')), errorsBox,
        h('p', {}, h('a', { href: `#/logs?channel_id=${encodeURIComponent(c.id)}`, onclick: () => close?.() }, t('channels.all_logs'))));
      api('/logs', { query: { channel_id: c.id, status: 'error', limit: 5 } }).then(({ data }) => {
        mount(errorsBox, data.length ? h('ul', { class: 'errlist' }, data.map((r) => h('li', {},
          h('div', {}, pill(String(r.status), 'bad'), ' ', h('code', {}, r.model), ' ', h('span', { class: 'muted' }, ago(r.ts))),
          h('div', { class: 'mono small-text break' }, r.error || t('channels.error_status', { s: r.status })))))
          : h('p', { class: 'muted' }, t('channels.no_errors')));
      }).catch((e) => mount(errorsBox, h('p', { class: 'form-error' }, e.message)));
      await dialog(t('channels.detail', { name: c.name }), body, [
        (cl) => { close = cl; return testBtn; },
        (cl) => h('button', { type: 'button', onclick: () => { cl(); edit(c); } }, t('common.edit')),
        (cl) => h('button', { type: 'button', class: 'primary', onclick: () => cl() }, t('common.close')),
      ]);
    }

    await load();
  },
};

function kv(k, v) {
  return [h('dt', {}, k), h('dd', {}, v)];
}

function statusCell(c) {
  const benched = c.health?.benched_for_secs;
  const failures = c.health?.recent_failures || 0;
  return h('div', { class: 'status-cell' },
    h('div', { class: 'pills' },
      pill(t('channels.st_' + c.status), STATUS_KIND[c.status] || 'idle'),
      benched ? pill(t('channels.benched', { s: benched }), 'warn') : null),
    c.status_reason ? h('div', { class: 'reason', title: c.status_reason }, c.status_reason) : null,
    failures ? h('div', { class: 'muted small-text' }, t('channels.health', { f: failures, n: c.health.recent_requests })) : null);
}

function modelsCell(models) {
  const shown = models.slice(0, 3);
  return h('div', { class: 'models' }, shown.map((m) => h('code', { class: 'tag' }, m)),
    models.length > 3 ? h('span', { class: 'muted small-text', title: models.join(', ') }, t('channels.more_models', { n: models.length - 3 })) : null);
}

function latencyCell(s) {
  if (!s || !s.requests) return '—';
  return h('div', {}, `${num(s.latency_ms)} ms`, h('div', { class: 'muted small-text' }, t('channels.requests_24h', { n: num(s.requests) })));
}

function testCell(r, long) {
  if (!r) return h('span', { class: 'muted' }, t('channels.never_tested'));
  return h('div', {},
    r.ok ? pill(t('channels.test_ok', { ms: r.latency_ms }), 'ok') : pill(t('channels.test_fail') + (r.status ? ` ${r.status}` : ''), 'bad'),
    h('div', { class: 'muted small-text' }, ago(r.at) + (r.model ? ` · ${r.model}` : '')),
    !r.ok && r.error ? h('div', { class: 'reason' + (long ? ' long' : ''), title: r.error }, r.error) : null);
}

/** The add/edit form. Resolves with the saved channel, or undefined if cancelled. */
function channelForm(c, kinds) {
  const editing = !!c;
  const kindOf = (k) => kinds.find((x) => x.kind === k) || { kind: k, base_url: null, key_required: true };
  const groups = { openai: [], anthropic: [], gemini: [], video: [] };
  for (const k of kinds) (groups[k.wire] || (groups[k.wire] = [])).push(k);
  const kindSel = h('select', { id: 'ch-kind', name: 'kind', 'aria-describedby': 'ch-kind-hint' },
    Object.entries(groups).filter(([, ks]) => ks.length).map(([wire, ks]) => h('optgroup', { label: wire },
      ks.map((k) => h('option', { value: k.kind, selected: k.kind === (c?.kind || 'openai') }, `${k.name} (${k.kind})`)))));
  const kindHint = h('small', { id: 'ch-kind-hint', class: 'hint' });
  const baseUrl = field(t('channels.f_base_url'), { name: 'base_url', value: c?.base_url || '', type: 'url', autocomplete: 'off', hint: ' ' });
  const models = field(t('channels.f_models'), { name: 'models', rows: 3, hint: t('channels.f_models_hint') }, 'textarea', (c?.models || []).join('\n'));
  const suggestBtn = h('button', { type: 'button', class: 'small' }, t('channels.suggest'));
  const modelsTa = models.querySelector('textarea');
  const keyHints = c?.keys?.length ? c.keys.join(', ') : t('channels.f_keys_none');

  // Choosing a preset fills the base URL and (for a new channel or empty list) suggested models.
  const applyKind = (initial) => {
    const k = kindOf(kindSel.value);
    kindHint.textContent = k.notes || t('channels.f_kind_hint');
    const input = baseUrl.querySelector('input');
    baseUrl.querySelector('.hint').textContent = k.base_url ? t('channels.f_base_url_hint', { url: k.base_url }) : t('channels.f_base_url_hint_none');
    input.placeholder = k.base_url || 'https://…';
    if (!initial) {
      if (k.base_url) input.value = k.base_url;
      if (!modelsTa.value.trim() && SUGGESTED[k.kind]) modelsTa.value = SUGGESTED[k.kind].join('\n');
    }
    suggestBtn.hidden = !SUGGESTED[k.kind];
  };
  kindSel.onchange = () => applyKind(false);
  suggestBtn.onclick = () => { modelsTa.value = (SUGGESTED[kindSel.value] || []).join('\n'); };
  models.append(suggestBtn);

  const fields = [
    h('div', { class: 'field' }, h('label', { for: 'ch-kind' }, t('channels.f_kind')), kindSel, kindHint),
    field(t('channels.f_name'), { name: 'name', required: true, value: c?.name || '', autocomplete: 'off' }),
    baseUrl,
    field(t('channels.f_keys'), {
      name: 'keys', rows: 3, autocomplete: 'off', spellcheck: 'false', class: 'mono',
      placeholder: editing ? '' : 'sk-…', hint: editing ? t('channels.f_keys_edit_hint', { hints: keyHints }) : t('channels.f_keys_hint'),
    }, 'textarea'),
    models,
    field(t('channels.f_model_map'), { name: 'model_map', rows: 2, class: 'mono', placeholder: 'gpt-4o=my-gpt4o-deployment', hint: t('channels.f_model_map_hint') }, 'textarea',
      Object.entries(c?.model_map || {}).map(([a, b]) => `${a}=${b}`).join('\n')),
    h('div', { class: 'row top' },
      field(t('channels.f_priority'), { name: 'priority', type: 'number', step: 1, value: c?.priority ?? 0, hint: t('channels.f_priority_hint') }),
      field(t('channels.f_weight'), { name: 'weight', type: 'number', step: 1, min: 0, value: c?.weight ?? 1, hint: t('channels.f_weight_hint') })),
    h('div', { class: 'row top' },
      field(t('channels.f_groups'), { name: 'groups', value: c ? (c.groups || []).join(', ') : 'default', hint: t('channels.f_groups_hint') }),
      field(t('channels.f_test_model'), { name: 'test_model', value: c?.test_model || '', hint: t('channels.f_test_model_hint') })),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'enabled', checked: c ? c.enabled : true }), t('channels.f_enabled')),
  ];
  applyKind(true);

  return formDialog(editing ? t('channels.edit_title', { name: c.name }) : t('channels.add_title'), fields, async (fd) => {
    const body = {
      name: fd.get('name').trim(),
      kind: fd.get('kind'),
      base_url: fd.get('base_url').trim(),
      models: list(fd.get('models')),
      model_map: parseMap(fd.get('model_map')),
      groups: list(fd.get('groups')),
      priority: Number(fd.get('priority') || 0),
      weight: Number(fd.get('weight') || 0),
      test_model: fd.get('test_model').trim() || null,
    };
    const keys = String(fd.get('keys') || '').split('\n').map((k) => k.trim()).filter(Boolean);
    if (!body.models.length) throw Object.assign(new Error(t('channels.need_models')), { param: 'models' });
    if (keys.length || !editing) body.keys = keys;
    if (!editing && !keys.length && kindOf(body.kind).key_required) throw Object.assign(new Error(t('channels.need_keys')), { param: 'keys' });
    const enabled = fd.get('enabled') === 'on';
    // Sending `enabled` unchanged would clear an auto-disable's reason: only send a change.
    if (!editing || enabled !== c.enabled) body.enabled = enabled;
    if (!body.base_url) delete body.base_url; // the preset's URL applies
    if (!editing && body.test_model === null) delete body.test_model;
    return editing
      ? api(`/channels/${encodeURIComponent(c.id)}`, { method: 'PATCH', body })
      : api('/channels', { method: 'POST', body });
  }, editing ? t('common.save') : t('common.create'));
}

function parseMap(s) {
  const out = {};
  for (const line of String(s || '').split('\n').map((l) => l.trim()).filter(Boolean)) {
    const i = line.indexOf('=');
    if (i < 1 || i === line.length - 1) throw Object.assign(new Error(t('channels.bad_map', { line })), { param: 'model_map' });
    out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

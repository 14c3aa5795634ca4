// API keys: everyone manages their own (admins anyone's, filtered by user). Create with
// limits (quota, expiry, models, IPs); the secret is shown once, with a copy button and a
// shortcut into the playground; edit limits, disable/enable; usage per key with a link to
// its log rows.

import {
  h, mount, t, addStrings, api, session, isAdmin, money, toNano, dollars, time, ago, pill, header, fail, toast,
  table, dialog, formDialog, field, options, list, copyButton, baseUrl,
} from '../lib.js';

addStrings({
  en: {
    'nav.keys': 'API keys',
    'keys.sub': 'Keys for the OpenAI-compatible API at {url}.',
    'keys.create': 'Create key', 'keys.user': 'User', 'keys.all_users': 'All users', 'keys.mine': 'Mine',
    'keys.name': 'Name', 'keys.key': 'Key', 'keys.owner': 'Owner', 'keys.status': 'Status', 'keys.quota': 'Quota left',
    'keys.used': 'Used', 'keys.expires': 'Expires', 'keys.limits': 'Limits', 'keys.actions': 'Actions',
    'keys.unlimited': 'Unlimited', 'keys.expired': 'Expired', 'keys.all_models': 'All models', 'keys.any_ip': 'Any IP',
    'keys.n_models': '{n} models', 'keys.n_ips': '{n} IP rules', 'keys.logs': 'Logs', 'keys.show_disabled': 'Show disabled keys',
    'keys.create_title': 'Create an API key', 'keys.edit_title': 'Edit key {name}',
    'keys.f_user': 'Owner', 'keys.f_name': 'Name', 'keys.f_quota': 'Quota (USD)',
    'keys.f_quota_hint': 'Spending cap for this key. Empty = unlimited (the owner\'s balance still applies).',
    'keys.f_quota_edit_hint': 'Sets the remaining quota. Empty = unlimited.',
    'keys.f_expires': 'Expires on', 'keys.f_expires_hint': 'Empty = never. The key stops working at the end of that day.',
    'keys.f_models': 'Allowed models', 'keys.f_models_hint': 'Comma or newline separated; prefix* patterns allowed. Empty = all models.',
    'keys.f_ips': 'Allowed IPs / CIDR', 'keys.f_ips_hint': 'e.g. 10.0.0.0/8, 192.168.1.7, ::1. Empty = any address.',
    'keys.f_enabled': 'Enabled', 'keys.bad_quota': 'Enter an amount in USD, e.g. 5 or 0.50.', 'keys.past': 'Pick a date in the future.',
    'keys.created_title': 'Your new API key',
    'keys.created_warn': 'Copy it now: this is the only time the full key is shown.',
    'keys.use_playground': 'Use in playground', 'keys.base_url': 'Base URL',
    'keys.saved': 'Key saved.', 'keys.disabled_msg': 'Key disabled.', 'keys.enabled_msg': 'Key enabled.',
    'keys.confirm_disable': 'Disable the key "{name}"? Requests with it will be refused at once. You can enable it again later.',
    'keys.empty': 'No keys yet. Create one to call the API.',
    'keys.detail': 'Key {name}', 'keys.created': 'Created', 'keys.id': 'ID', 'keys.models': 'Models', 'keys.ips': 'IP allow-list',
  },
  zh: {
    'nav.keys': '令牌',
    'keys.sub': '调用 {url} 上 OpenAI 兼容接口的密钥。',
    'keys.create': '创建令牌', 'keys.user': '用户', 'keys.all_users': '所有用户', 'keys.mine': '我的',
    'keys.name': '名称', 'keys.key': '密钥', 'keys.owner': '所属用户', 'keys.status': '状态', 'keys.quota': '剩余额度',
    'keys.used': '已用', 'keys.expires': '过期时间', 'keys.limits': '限制', 'keys.actions': '操作',
    'keys.unlimited': '无限制', 'keys.expired': '已过期', 'keys.all_models': '全部模型', 'keys.any_ip': '任意 IP',
    'keys.n_models': '{n} 个模型', 'keys.n_ips': '{n} 条 IP 规则', 'keys.logs': '日志', 'keys.show_disabled': '显示已禁用的令牌',
    'keys.create_title': '创建 API 令牌', 'keys.edit_title': '编辑令牌 {name}',
    'keys.f_user': '所属用户', 'keys.f_name': '名称', 'keys.f_quota': '额度（美元）',
    'keys.f_quota_hint': '该令牌的消费上限。留空表示无限制（仍受用户余额约束）。',
    'keys.f_quota_edit_hint': '设置剩余额度。留空表示无限制。',
    'keys.f_expires': '过期日期', 'keys.f_expires_hint': '留空表示永不过期。令牌在当天结束时失效。',
    'keys.f_models': '可用模型', 'keys.f_models_hint': '用逗号或换行分隔；支持 前缀* 通配。留空表示全部模型。',
    'keys.f_ips': 'IP 白名单 / CIDR', 'keys.f_ips_hint': '例如 10.0.0.0/8、192.168.1.7、::1。留空表示不限制。',
    'keys.f_enabled': '启用', 'keys.bad_quota': '请输入美元金额，例如 5 或 0.50。', 'keys.past': '请选择未来的日期。',
    'keys.created_title': '新的 API 令牌',
    'keys.created_warn': '请立即复制：完整密钥只显示这一次。',
    'keys.use_playground': '在操练场中使用', 'keys.base_url': 'Base URL',
    'keys.saved': '令牌已保存。', 'keys.disabled_msg': '令牌已禁用。', 'keys.enabled_msg': '令牌已启用。',
    'keys.confirm_disable': '禁用令牌“{name}”？使用它的请求将立即被拒绝，之后可以重新启用。',
    'keys.empty': '还没有令牌，创建一个即可调用 API。',
    'keys.detail': '令牌 {name}', 'keys.created': '创建时间', 'keys.id': 'ID', 'keys.models': '模型', 'keys.ips': 'IP 白名单',
  },
});

export default {
  path: 'keys', title: 'nav.keys', admin: false, icon: '⚷',
  async render(main, ctx) {
    const st = { keys: [], users: [], user: ctx.query.get('user_id') || '', showDisabled: true };
    const listBox = h('div', {});
    const filters = h('div', { class: 'filters compact' });
    mount(main,
      header(t('nav.keys'), t('keys.sub', { url: baseUrl() }),
        h('button', { type: 'button', class: 'primary', onclick: () => create() }, t('keys.create')),
        h('button', { type: 'button', onclick: () => load() }, t('common.refresh'))),
      filters, listBox);

    if (isAdmin()) {
      try { st.users = (await api('/users', { query: { limit: 1000 } })).data; } catch (e) { fail(e); }
    }
    const userName = (id) => st.users.find((u) => u.id === id)?.name || (id === session.user.id ? session.user.name : id);

    function drawFilters() {
      mount(filters,
        isAdmin() ? field(t('keys.user'), { onchange: (e) => { st.user = e.target.value; load(); } }, 'select',
          options([['', t('keys.all_users')], ...st.users.map((u) => [u.id, `${u.name} (${u.role})`])], st.user)) : null,
        h('label', { class: 'check' }, h('input', {
          type: 'checkbox', checked: st.showDisabled, onchange: (e) => { st.showDisabled = e.target.checked; draw(); },
        }), t('keys.show_disabled')));
    }

    async function load() {
      try {
        st.keys = (await api('/keys', { query: { user_id: isAdmin() ? st.user : undefined } })).data;
        draw();
      } catch (e) { fail(e); }
    }

    function draw() {
      const rows = st.keys.filter((k) => st.showDisabled || k.enabled)
        .sort((a, b) => (b.enabled - a.enabled) || (b.created_at - a.created_at));
      const showOwner = isAdmin() && !st.user;
      mount(listBox, table([
        { label: t('keys.name'), cell: (k) => h('div', {}, h('strong', {}, k.name), h('div', { class: 'mono small-text muted' }, k.key_hint)) },
        showOwner ? { label: t('keys.owner'), cell: (k) => userName(k.user_id) } : null,
        { label: t('keys.status'), cell: (k) => statusPill(k) },
        { label: t('keys.used'), class: 'num', cell: (k) => money(k.used_nano) },
        { label: t('keys.quota'), class: 'num', cell: (k) => (k.quota_limited ? money(k.quota_remaining_nano) : t('keys.unlimited')) },
        { label: t('keys.expires'), cell: (k) => (k.expires_at ? time(k.expires_at) : t('common.never')) },
        { label: t('keys.limits'), cell: (k) => limits(k) },
        { label: t('keys.actions'), cell: (k) => actions(k) },
      ].filter(Boolean), rows, { empty: t('keys.empty'), onRow: (k) => detail(k), caption: t('nav.keys') }));
    }

    function actions(k) {
      return h('div', { class: 'actions' },
        h('a', { class: 'button small', href: `#/logs?key_id=${encodeURIComponent(k.id)}`, 'aria-label': `${t('keys.logs')} ${k.name}` }, t('keys.logs')),
        h('button', { type: 'button', class: 'small', 'aria-label': `${t('common.edit')} ${k.name}`, onclick: () => edit(k) }, t('common.edit')),
        k.enabled
          ? h('button', { type: 'button', class: 'small danger', 'aria-label': `${t('common.disable')} ${k.name}`, onclick: () => disable(k) }, t('common.disable'))
          : h('button', { type: 'button', class: 'small', 'aria-label': `${t('common.enable')} ${k.name}`, onclick: () => enable(k) }, t('common.enable')));
    }

    async function create() {
      const created = await keyForm(null, st.users, isAdmin() ? st.user || session.user.id : session.user.id);
      if (!created) return;
      await load();
      showSecret(created);
    }

    async function edit(k) {
      const saved = await keyForm(k, st.users);
      if (saved) { toast(t('keys.saved')); await load(); }
    }

    async function disable(k) {
      const yes = await dialog(t('common.disable'), h('p', {}, t('keys.confirm_disable', { name: k.name })), [
        (close) => h('button', { type: 'button', onclick: () => close(false) }, t('common.cancel')),
        (close) => h('button', { type: 'button', class: 'primary', onclick: () => close(true) }, t('common.disable')),
      ]);
      if (!yes) return;
      try {
        await api(`/keys/${encodeURIComponent(k.id)}`, { method: 'DELETE' });
        toast(t('keys.disabled_msg'));
        await load();
      } catch (e) { fail(e); }
    }

    async function enable(k) {
      try {
        await api(`/keys/${encodeURIComponent(k.id)}`, { method: 'PATCH', body: { enabled: true } });
        toast(t('keys.enabled_msg'));
        await load();
      } catch (e) { fail(e); }
    }

    function detail(k) {
      dialog(t('keys.detail', { name: k.name }), h('dl', { class: 'kv' },
        kv(t('keys.id'), h('code', {}, k.id)),
        kv(t('keys.key'), h('code', {}, k.key_hint)),
        kv(t('keys.owner'), userName(k.user_id)),
        kv(t('keys.status'), statusPill(k)),
        kv(t('keys.used'), money(k.used_nano)),
        kv(t('keys.quota'), k.quota_limited ? money(k.quota_remaining_nano) : t('keys.unlimited')),
        kv(t('keys.expires'), k.expires_at ? `${time(k.expires_at)} (${ago(k.expires_at)})` : t('common.never')),
        kv(t('keys.models'), k.models?.length ? k.models.join(', ') : t('keys.all_models')),
        kv(t('keys.ips'), k.ip_allow?.length ? k.ip_allow.join(', ') : t('keys.any_ip')),
        kv(t('keys.created'), time(k.created_at))), [
        (close) => h('a', { class: 'button', href: `#/logs?key_id=${encodeURIComponent(k.id)}`, onclick: () => close() }, t('keys.logs')),
        (close) => h('button', { type: 'button', onclick: () => { close(); edit(k); } }, t('common.edit')),
        (close) => h('button', { type: 'button', class: 'primary', onclick: () => close() }, t('common.close')),
      ]);
    }

    drawFilters();
    await load();
  },
};

function kv(k, v) {
  return [h('dt', {}, k), h('dd', {}, v)];
}

function statusPill(k) {
  if (!k.enabled) return pill(t('common.disabled'), 'idle');
  if (k.expires_at && k.expires_at < Date.now()) return pill(t('keys.expired'), 'bad');
  if (k.quota_limited && k.quota_remaining_nano <= 0) return pill(t('keys.quota') + ' 0', 'bad');
  return pill(t('common.enabled'), 'ok');
}

function limits(k) {
  const parts = [
    k.models?.length ? h('span', { title: k.models.join(', ') }, k.models.length <= 2 ? k.models.join(', ') : t('keys.n_models', { n: k.models.length })) : h('span', { class: 'muted' }, t('keys.all_models')),
    k.ip_allow?.length ? h('span', { title: k.ip_allow.join(', ') }, k.ip_allow.length <= 1 ? k.ip_allow[0] : t('keys.n_ips', { n: k.ip_allow.length })) : h('span', { class: 'muted' }, t('keys.any_ip')),
  ];
  return h('div', { class: 'small-text' }, parts[0], h('br'), parts[1]);
}

/** yyyy-mm-dd of a timestamp, in local time, for <input type=date>. */
function dateValue(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** The end of a picked day in local time: "expires on the 5th" means usable all of the 5th. */
function endOfDay(value) {
  const [y, m, d] = value.split('-').map(Number);
  return new Date(y, m - 1, d, 23, 59, 59, 999).getTime();
}

/** Create (k null) or edit a key. Resolves with the API's answer or undefined. */
function keyForm(k, users, defaultUser) {
  const editing = !!k;
  const fields = [
    !editing && isAdmin() && users.length ? field(t('keys.f_user'), { name: 'user_id' }, 'select',
      options(users.map((u) => [u.id, `${u.name} (${u.role})`]), defaultUser)) : null,
    field(t('keys.f_name'), { name: 'name', value: k?.name || '', placeholder: 'default', autocomplete: 'off' }),
    h('div', { class: 'row top' },
      field(t('keys.f_quota'), {
        name: 'quota', inputmode: 'decimal', placeholder: t('keys.unlimited'),
        value: k?.quota_limited ? dollars(k.quota_remaining_nano) : '',
        hint: editing ? t('keys.f_quota_edit_hint') : t('keys.f_quota_hint'),
      }),
      field(t('keys.f_expires'), { name: 'expires', type: 'date', value: dateValue(k?.expires_at), min: dateValue(Date.now()), hint: t('keys.f_expires_hint') })),
    field(t('keys.f_models'), { name: 'models', rows: 2, placeholder: 'gpt-4o-mini, claude-*', hint: t('keys.f_models_hint') }, 'textarea', (k?.models || []).join(', ')),
    field(t('keys.f_ips'), { name: 'ip_allow', rows: 2, placeholder: '203.0.113.0/24', hint: t('keys.f_ips_hint') }, 'textarea', (k?.ip_allow || []).join(', ')),
    editing ? h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'enabled', checked: k.enabled }), t('keys.f_enabled')) : null,
  ];
  return formDialog(editing ? t('keys.edit_title', { name: k.name }) : t('keys.create_title'), fields, async (fd) => {
    const body = { models: list(fd.get('models')), ip_allow: list(fd.get('ip_allow')) };
    const name = String(fd.get('name') || '').trim();
    if (name || editing) body.name = name || 'default';
    const quota = String(fd.get('quota') || '').trim().replace(/^\$/, '');
    if (quota) {
      const n = toNano(quota);
      if (!Number.isFinite(n) || n < 0) throw Object.assign(new Error(t('keys.bad_quota')), { param: 'quota' });
      body.quota_nano = n;
    } else if (editing) body.quota_nano = null;
    const exp = fd.get('expires');
    if (exp) {
      body.expires_at = endOfDay(exp);
      if (body.expires_at <= Date.now()) throw Object.assign(new Error(t('keys.past')), { param: 'expires' });
    } else if (editing) body.expires_at = null;
    if (editing) {
      body.enabled = fd.get('enabled') === 'on';
      return api(`/keys/${encodeURIComponent(k.id)}`, { method: 'PATCH', body });
    }
    if (fd.get('user_id')) body.user_id = fd.get('user_id');
    return api('/keys', { method: 'POST', body });
  }, editing ? t('common.save') : t('common.create'));
}

/** The one time the secret is visible: copy it, or take it straight to the playground. */
function showSecret(created) {
  const secret = created.key;
  dialog(t('keys.created_title'), h('div', {},
    h('p', { class: 'warn-text', role: 'alert' }, t('keys.created_warn')),
    h('code', { class: 'secret', 'data-testid': 'new-key-secret' }, secret),
    h('div', { class: 'actions', style: { marginTop: '8px' } }, copyButton(secret, t('common.copy') + ' ' + t('keys.key'))),
    h('p', { class: 'muted small-text' }, `${t('keys.base_url')}: `, h('code', {}, baseUrl()))), [
    (close) => h('button', {
      type: 'button',
      onclick: () => {
        localStorage.setItem('sy.playground.key', secret);
        close();
        location.hash = '#/playground';
      },
    }, t('keys.use_playground')),
    (close) => h('button', { type: 'button', class: 'primary', onclick: () => close() }, t('common.close')),
  ]);
}

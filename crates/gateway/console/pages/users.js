// Users (admins): who may use the relay, their role, routing group and money. Create users,
// top up or deduct with a reason (kept in the ledger), change role/group/password, lock.

import {
  h, mount, t, addStrings, api, session, money, toNano, num, time, pill, header, fail, toast,
  table, dialog, formDialog, field, options,
} from '../lib.js';

addStrings({
  en: {
    'nav.users': 'Users',
    'users.sub': 'Accounts, roles, routing groups and balances.',
    'users.create': 'Create user', 'users.search': 'Search users', 'users.search_ph': 'Name, group or ID',
    'users.name': 'Name', 'users.role': 'Role', 'users.group': 'Group', 'users.balance': 'Balance',
    'users.used': 'Used', 'users.requests': 'Requests', 'users.status': 'Status', 'users.actions': 'Actions',
    'users.role_root': 'Root', 'users.role_admin': 'Admin', 'users.role_user': 'User',
    'users.locked': 'Locked', 'users.active': 'Active',
    'users.balance_btn': 'Balance', 'users.lock': 'Lock', 'users.unlock': 'Unlock',
    'users.create_title': 'Create a user', 'users.edit_title': 'Edit user {name}',
    'users.f_name': 'Name', 'users.f_role': 'Role', 'users.f_role_hint': 'Only root may create or promote admins.',
    'users.f_group': 'Group', 'users.f_group_hint': 'Routing group: the user is served by channels of this group.',
    'users.f_balance': 'Starting balance (USD)', 'users.f_balance_hint': 'Recorded in the ledger as the initial balance.',
    'users.f_password': 'Password', 'users.f_password_hint': 'For console sign-in; at least 8 characters. Optional.',
    'users.f_password_edit_hint': 'Leave empty to keep it. A new password ends the user\'s sessions.',
    'users.f_remove_password': 'Remove the password (no console sign-in)',
    'users.f_enabled': 'Enabled (unchecked: all the user\'s keys stop working)',
    'users.bad_amount': 'Enter an amount in USD, e.g. 10 or -2.50.', 'users.zero': 'The amount must not be zero.',
    'users.short_password': 'The password needs at least 8 characters.',
    'users.balance_title': 'Balance of {name}', 'users.current': 'Current balance: {amount}',
    'users.f_amount': 'Amount (USD)', 'users.f_amount_hint': 'Positive tops up; negative deducts (never below zero).',
    'users.f_reason': 'Reason', 'users.f_reason_hint': 'Required; kept in the ledger (e.g. an invoice number).',
    'users.need_reason': 'Give a reason.', 'users.apply': 'Apply',
    'users.topped': 'New balance of {name}: {amount}.', 'users.saved': 'User saved.', 'users.created': 'User {name} created.',
    'users.detail': 'User {name}', 'users.id': 'ID', 'users.created_at': 'Created', 'users.ledger': 'Ledger',
    'users.ledger_empty': 'No manual balance changes yet.', 'users.when': 'When', 'users.amount': 'Amount',
    'users.reason': 'Reason', 'users.actor': 'By', 'users.keys': 'Keys', 'users.logs': 'Logs',
    'users.confirm_lock': 'Lock {name}? All of their keys stop working at once.',
    'users.empty': 'No users.', 'users.none_match': 'No user matches.', 'users.more': 'Showing the first {n} users.',
  },
  zh: {
    'nav.users': '用户',
    'users.sub': '账户、角色、路由分组与余额。',
    'users.create': '创建用户', 'users.search': '搜索用户', 'users.search_ph': '名称、分组或 ID',
    'users.name': '用户名', 'users.role': '角色', 'users.group': '分组', 'users.balance': '余额',
    'users.used': '已用', 'users.requests': '请求数', 'users.status': '状态', 'users.actions': '操作',
    'users.role_root': '超级管理员', 'users.role_admin': '管理员', 'users.role_user': '普通用户',
    'users.locked': '已锁定', 'users.active': '正常',
    'users.balance_btn': '充值/扣费', 'users.lock': '锁定', 'users.unlock': '解锁',
    'users.create_title': '创建用户', 'users.edit_title': '编辑用户 {name}',
    'users.f_name': '用户名', 'users.f_role': '角色', 'users.f_role_hint': '只有超级管理员可以创建或提升管理员。',
    'users.f_group': '分组', 'users.f_group_hint': '路由分组：由该分组的渠道为此用户服务。',
    'users.f_balance': '初始余额（美元）', 'users.f_balance_hint': '作为初始余额记入账本。',
    'users.f_password': '密码', 'users.f_password_hint': '用于登录控制台；至少 8 个字符。可不填。',
    'users.f_password_edit_hint': '留空则不修改。设置新密码会使该用户已登录的会话失效。',
    'users.f_remove_password': '移除密码（不能登录控制台）',
    'users.f_enabled': '启用（取消勾选后该用户的所有令牌立即失效）',
    'users.bad_amount': '请输入美元金额，例如 10 或 -2.50。', 'users.zero': '金额不能为零。',
    'users.short_password': '密码至少需要 8 个字符。',
    'users.balance_title': '{name} 的余额', 'users.current': '当前余额：{amount}',
    'users.f_amount': '金额（美元）', 'users.f_amount_hint': '正数为充值，负数为扣费（不会扣到零以下）。',
    'users.f_reason': '原因', 'users.f_reason_hint': '必填，记入账本（例如发票号）。',
    'users.need_reason': '请填写原因。', 'users.apply': '确定',
    'users.topped': '{name} 的新余额：{amount}。', 'users.saved': '用户已保存。', 'users.created': '已创建用户 {name}。',
    'users.detail': '用户 {name}', 'users.id': 'ID', 'users.created_at': '创建时间', 'users.ledger': '账本',
    'users.ledger_empty': '还没有手动调整余额的记录。', 'users.when': '时间', 'users.amount': '金额',
    'users.reason': '原因', 'users.actor': '操作人', 'users.keys': '令牌', 'users.logs': '日志',
    'users.confirm_lock': '锁定 {name}？该用户的所有令牌将立即失效。',
    'users.empty': '没有用户。', 'users.none_match': '没有匹配的用户。', 'users.more': '仅显示前 {n} 个用户。',
  },
});

const ROLE_KIND = { root: 'warn', admin: 'ok', user: 'idle' };
const LIMIT = 1000;

export default {
  path: 'users', title: 'nav.users', admin: true, icon: '☺',
  async render(main) {
    const st = { users: [], q: '' };
    const listBox = h('div', {});
    mount(main,
      header(t('nav.users'), t('users.sub'),
        h('button', { type: 'button', class: 'primary', onclick: () => create() }, t('users.create')),
        h('button', { type: 'button', onclick: () => load() }, t('common.refresh'))),
      h('div', { class: 'filters' }, field(t('users.search'), {
        type: 'search', placeholder: t('users.search_ph'),
        oninput: (e) => { st.q = e.target.value.trim().toLowerCase(); draw(); },
      })),
      listBox);

    async function load() {
      try {
        st.users = (await api('/users', { query: { limit: LIMIT } })).data;
        draw();
      } catch (e) { fail(e); }
    }
    const nameOf = (id) => st.users.find((u) => u.id === id)?.name || id;

    function draw() {
      const rows = st.users.filter((u) => !st.q || [u.name, u.group, u.id, u.role].some((s) => String(s).toLowerCase().includes(st.q)));
      mount(listBox, table([
        { label: t('users.name'), cell: (u) => h('div', {}, h('strong', {}, u.name), u.id === session.user.id ? ' ✓' : null, h('div', { class: 'mono small-text muted' }, u.id)) },
        { label: t('users.role'), cell: (u) => pill(t('users.role_' + u.role), ROLE_KIND[u.role]) },
        { label: t('users.group'), cell: (u) => h('code', {}, u.group) },
        { label: t('users.balance'), class: 'num', cell: (u) => h('span', { class: u.balance_nano <= 0 ? 'bad-text' : '' }, money(u.balance_nano)) },
        { label: t('users.used'), class: 'num', cell: (u) => money(u.used_nano) },
        { label: t('users.requests'), class: 'num', cell: (u) => num(u.request_count) },
        { label: t('users.status'), cell: (u) => (u.enabled ? pill(t('users.active'), 'ok') : pill(t('users.locked'), 'bad')) },
        { label: t('users.actions'), cell: (u) => actions(u) },
      ], rows, { empty: st.users.length ? t('users.none_match') : t('users.empty'), onRow: (u) => detail(u), caption: t('nav.users') }),
      st.users.length >= LIMIT ? h('p', { class: 'muted' }, t('users.more', { n: LIMIT })) : null);
    }

    function actions(u) {
      return h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', 'aria-label': `${t('users.balance_btn')} ${u.name}`, onclick: () => balance(u) }, t('users.balance_btn')),
        h('button', { type: 'button', class: 'small', 'aria-label': `${t('common.edit')} ${u.name}`, onclick: () => edit(u) }, t('common.edit')),
        u.enabled
          ? h('button', { type: 'button', class: 'small danger', 'aria-label': `${t('users.lock')} ${u.name}`, onclick: () => lock(u, false) }, t('users.lock'))
          : h('button', { type: 'button', class: 'small', 'aria-label': `${t('users.unlock')} ${u.name}`, onclick: () => lock(u, true) }, t('users.unlock')));
    }

    async function create() {
      const u = await userForm(null);
      if (u) { toast(t('users.created', { name: u.name })); await load(); }
    }

    async function edit(u) {
      const saved = await userForm(u);
      if (saved) { toast(t('users.saved')); await load(); }
    }

    async function lock(u, enabled) {
      if (!enabled) {
        const yes = await dialog(t('users.lock'), h('p', {}, t('users.confirm_lock', { name: u.name })), [
          (close) => h('button', { type: 'button', onclick: () => close(false) }, t('common.cancel')),
          (close) => h('button', { type: 'button', class: 'primary', onclick: () => close(true) }, t('users.lock')),
        ]);
        if (!yes) return;
      }
      try {
        await api(`/users/${encodeURIComponent(u.id)}`, { method: 'PATCH', body: { enabled } });
        toast(t('users.saved'));
        await load();
      } catch (e) { fail(e); }
    }

    async function balance(u) {
      const r = await formDialog(t('users.balance_title', { name: u.name }), [
        h('p', {}, t('users.current', { amount: money(u.balance_nano) })),
        field(t('users.f_amount'), { name: 'amount', inputmode: 'decimal', required: true, placeholder: '10.00', autocomplete: 'off', hint: t('users.f_amount_hint') }),
        field(t('users.f_reason'), { name: 'reason', required: true, autocomplete: 'off', hint: t('users.f_reason_hint') }),
      ], async (fd) => {
        const amount = toNano(String(fd.get('amount')).replace('$', '').replace(/^\+/, ''));
        if (!Number.isFinite(amount)) throw Object.assign(new Error(t('users.bad_amount')), { param: 'amount' });
        if (amount === 0) throw Object.assign(new Error(t('users.zero')), { param: 'amount' });
        const reason = String(fd.get('reason')).trim();
        if (!reason) throw Object.assign(new Error(t('users.need_reason')), { param: 'reason' });
        return api(`/users/${encodeURIComponent(u.id)}/balance`, { method: 'POST', body: { amount_nano: amount, reason } });
      }, t('users.apply'));
      if (r) { toast(t('users.topped', { name: r.name, amount: money(r.balance_nano) })); await load(); }
      return r;
    }

    async function detail(u) {
      const ledgerBox = h('div', {}, h('p', { class: 'muted' }, t('common.loading')));
      const loadLedger = () => api(`/users/${encodeURIComponent(u.id)}/ledger`, { query: { limit: 50 } }).then(({ data }) => {
        mount(ledgerBox, table([
          { label: t('users.when'), cell: (r) => time(r.created_at) },
          { label: t('users.amount'), class: 'num', cell: (r) => h('span', { class: r.amount_nano < 0 ? 'bad-text' : 'ok-text' }, (r.amount_nano > 0 ? '+' : '') + money(r.amount_nano)) },
          { label: t('users.reason'), cell: (r) => r.reason },
          { label: t('users.actor'), cell: (r) => (r.actor ? r.actor_name || nameOf(r.actor) : '—') },
        ], data, { empty: t('users.ledger_empty'), caption: t('users.ledger') }));
      }).catch((e) => mount(ledgerBox, h('p', { class: 'form-error' }, e.message)));
      loadLedger();
      const facts = h('dl', { class: 'kv' });
      const drawFacts = (x) => mount(facts,
        kv(t('users.id'), h('code', {}, x.id)),
        kv(t('users.role'), pill(t('users.role_' + x.role), ROLE_KIND[x.role])),
        kv(t('users.group'), h('code', {}, x.group)),
        kv(t('users.balance'), money(x.balance_nano)),
        kv(t('users.used'), money(x.used_nano)),
        kv(t('users.requests'), num(x.request_count)),
        kv(t('users.status'), x.enabled ? pill(t('users.active'), 'ok') : pill(t('users.locked'), 'bad')),
        kv(t('users.created_at'), time(x.created_at)));
      drawFacts(u);
      await dialog(t('users.detail', { name: u.name }), h('div', {},
        facts,
        h('p', { class: 'actions' },
          h('a', { href: `#/keys?user_id=${encodeURIComponent(u.id)}`, onclick: closeAll }, t('users.keys')),
          h('a', { href: `#/logs?user_id=${encodeURIComponent(u.id)}`, onclick: closeAll }, t('users.logs'))),
        h('h3', {}, t('users.ledger')), ledgerBox), [
        h('button', {
          type: 'button',
          onclick: async () => { const r = await balance(u); if (r) { u = r; drawFacts(r); loadLedger(); } },
        }, t('users.balance_btn')),
        (close) => h('button', { type: 'button', onclick: () => { close(); edit(u); } }, t('common.edit')),
        (close) => h('button', { type: 'button', class: 'primary', onclick: () => close() }, t('common.close')),
      ]);
    }

    await load();
  },
};

/** Following a link out of a dialog: the dialog must not stay open over the next page. */
function closeAll() {
  document.querySelectorAll('dialog[open]').forEach((d) => { d.close(); d.remove(); });
}

function kv(k, v) {
  return [h('dt', {}, k), h('dd', {}, v)];
}

function roleOptions(selected) {
  return options(['user', 'admin', 'root'].map((r) => [r, t('users.role_' + r)]), selected);
}

/** Create (u null) or edit a user; resolves with the API's answer or undefined. */
function userForm(u) {
  const editing = !!u;
  const fields = [
    field(t('users.f_name'), { name: 'name', required: true, value: u?.name || '', autocomplete: 'off' }),
    h('div', { class: 'row top' },
      field(t('users.f_role'), { name: 'role', hint: t('users.f_role_hint') }, 'select', roleOptions(u?.role || 'user')),
      field(t('users.f_group'), { name: 'group', value: u?.group || 'default', autocomplete: 'off', hint: t('users.f_group_hint') })),
    editing ? null : field(t('users.f_balance'), { name: 'balance', inputmode: 'decimal', placeholder: '0.00', hint: t('users.f_balance_hint') }),
    field(t('users.f_password'), {
      name: 'password', type: 'password', autocomplete: 'new-password', minlength: 8,
      hint: editing ? t('users.f_password_edit_hint') : t('users.f_password_hint'),
    }),
    editing ? h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'remove_password' }), t('users.f_remove_password')) : null,
    editing ? h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'enabled', checked: u.enabled }), t('users.f_enabled')) : null,
  ];
  return formDialog(editing ? t('users.edit_title', { name: u.name }) : t('users.create_title'), fields, async (fd) => {
    const password = String(fd.get('password') || '');
    if (password && password.length < 8) throw Object.assign(new Error(t('users.short_password')), { param: 'password' });
    const body = { name: String(fd.get('name')).trim(), role: fd.get('role'), group: String(fd.get('group')).trim() || 'default' };
    if (editing) {
      // Send only what changed: changing an admin's role is root-only, even to the same value.
      for (const k of ['name', 'role', 'group']) if (body[k] === u[k]) delete body[k];
      const enabled = fd.get('enabled') === 'on';
      if (enabled !== u.enabled) body.enabled = enabled;
      if (password) body.password = password;
      else if (fd.get('remove_password') === 'on') body.password = null;
      if (!Object.keys(body).length) return u;
      return api(`/users/${encodeURIComponent(u.id)}`, { method: 'PATCH', body });
    }
    const bal = String(fd.get('balance') || '').trim().replace('$', '');
    if (bal) {
      const n = toNano(bal);
      if (!Number.isFinite(n) || n < 0) throw Object.assign(new Error(t('users.bad_amount')), { param: 'balance' });
      body.balance_nano = n;
    }
    if (password) body.password = password;
    return api('/users', { method: 'POST', body });
  }, editing ? t('common.save') : t('common.create'));
}

// The console's shell: sign-in, the navigation, the language switch and the hash router
// (#/channels, #/docs/chat…). Each page is a module in pages/ exporting
// {path, title, admin?, render(main, ctx)}; render may return a cleanup function that runs
// when the user leaves the page (to stop timers and streams).

import { h, mount, t, addStrings, lang, setLang, LANGS, api, session, isAdmin, fail } from './lib.js';
import dashboard from './pages/dashboard.js';
import channels from './pages/channels.js';
import keys from './pages/keys.js';
import users from './pages/users.js';
import prices from './pages/prices.js';
import logs from './pages/logs.js';
import tasks from './pages/tasks.js';
import playground from './pages/playground.js';
import docs from './pages/docs.js';

const PAGES = [dashboard, channels, keys, users, prices, logs, tasks, playground, docs];

addStrings({
  en: {
    'app.name': 'Switchyard', 'app.tagline': 'One key, every model.',
    'login.title': 'Sign in', 'login.username': 'Username', 'login.password': 'Password',
    'login.submit': 'Sign in', 'login.or': 'or', 'login.with_key': 'Sign in with an API key',
    'login.key': 'API key', 'login.with_password': 'Sign in with a password',
    'login.key_hint': 'The root key printed when the server first started works here.',
    'nav.menu': 'Menu', 'nav.main': 'Main navigation', 'nav.signout': 'Sign out', 'nav.language': 'Language',
    'nav.signed_in_as': 'Signed in as {name} ({role})', 'page.not_found': 'There is no such page.',
  },
  zh: {
    'app.name': 'Switchyard', 'app.tagline': '一个密钥，所有模型。',
    'login.title': '登录', 'login.username': '用户名', 'login.password': '密码',
    'login.submit': '登录', 'login.or': '或', 'login.with_key': '使用 API 密钥登录',
    'login.key': 'API 密钥', 'login.with_password': '使用密码登录',
    'login.key_hint': '服务器首次启动时打印的 root 密钥可以在这里使用。',
    'nav.menu': '菜单', 'nav.main': '主导航', 'nav.signout': '退出登录', 'nav.language': '语言',
    'nav.signed_in_as': '当前用户 {name}（{role}）', 'page.not_found': '没有这个页面。',
  },
});

const root = document.getElementById('app');
let cleanup = null;

function route() {
  const [path, ...rest] = (location.hash.replace(/^#\/?/, '') || '').split('/');
  const [name, qs] = path.split('?');
  return { name: name || 'dashboard', params: rest.map(decodeURIComponent), query: new URLSearchParams(qs || '') };
}

function visiblePages() {
  return PAGES.filter((p) => !p.admin || isAdmin());
}

async function start() {
  setLang(lang());
  try {
    const s = await api('/auth/session');
    session.user = s.user;
    session.csrf = s.csrf_token;
  } catch {
    session.user = null;
  }
  render();
}

function render() {
  if (cleanup) { try { cleanup(); } catch { /* a page's cleanup must not block navigation */ } cleanup = null; }
  document.title = t('app.name');
  if (!session.user) return mount(root, loginView());
  const r = route();
  const page = visiblePages().find((p) => p.path === r.name);
  const main = h('main', { id: 'main', tabindex: '-1' });
  mount(root, h('a', { class: 'skip', href: '#main', onclick: (e) => { e.preventDefault(); main.focus(); } }, 'Skip to content'),
    topbar(), h('div', { class: 'layout' }, nav(r.name), main));
  if (!page) return mount(main, h('p', { class: 'empty' }, t('page.not_found')));
  document.title = `${t(page.title)} · ${t('app.name')}`;
  Promise.resolve(page.render(main, { params: r.params, query: r.query, rerender: render }))
    .then((c) => { if (typeof c === 'function') cleanup = c; })
    .catch(fail);
}

function topbar() {
  const langSel = h('select', {
    'aria-label': t('nav.language'), class: 'lang',
    onchange: (e) => { setLang(e.target.value); render(); },
  }, LANGS.map(([v, l]) => h('option', { value: v, selected: v === lang() }, l)));
  return h('header', { class: 'topbar' },
    h('button', {
      class: 'icon menu-toggle', 'aria-label': t('nav.menu'), 'aria-controls': 'nav', 'aria-expanded': 'false',
      onclick: (e) => {
        const open = document.body.classList.toggle('nav-open');
        e.currentTarget.setAttribute('aria-expanded', String(open));
      },
    }, '☰'),
    h('a', { class: 'brand', href: '#/dashboard' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), t('app.name')),
    h('span', { class: 'spacer' }),
    h('span', { class: 'who' }, t('nav.signed_in_as', { name: session.user.name, role: session.user.role })),
    langSel,
    h('button', { class: 'ghost', onclick: signOut }, t('nav.signout')));
}

function nav(current) {
  return h('nav', { id: 'nav', class: 'nav', 'aria-label': t('nav.main') },
    h('ul', {}, visiblePages().map((p) => h('li', {},
      h('a', {
        href: '#/' + p.path, 'aria-current': p.path === current ? 'page' : undefined,
        onclick: () => document.body.classList.remove('nav-open'),
      }, h('span', { class: 'nav-icon', 'aria-hidden': 'true' }, p.icon || '•'), t(p.title))))));
}

async function signOut() {
  try { await api('/auth/logout', { method: 'POST' }); } catch { /* signed out either way */ }
  session.user = null;
  session.csrf = null;
  location.hash = '';
  render();
}

function loginView() {
  let withKey = false;
  const box = h('div', { class: 'login-card' });
  const draw = () => {
    const err = h('p', { class: 'form-error', role: 'alert' });
    const fields = withKey
      ? [h('div', { class: 'field' }, h('label', { for: 'login-key' }, t('login.key')),
        h('input', { id: 'login-key', name: 'key', type: 'password', autocomplete: 'off', required: true, placeholder: 'sk-…', 'aria-describedby': 'login-key-hint' }),
        h('small', { id: 'login-key-hint', class: 'hint' }, t('login.key_hint')))]
      : [h('div', { class: 'field' }, h('label', { for: 'login-user' }, t('login.username')),
        h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true })),
      h('div', { class: 'field' }, h('label', { for: 'login-pass' }, t('login.password')),
        h('input', { id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true }))];
    const form = h('form', {
      class: 'form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        err.textContent = '';
        const body = Object.fromEntries(new FormData(form));
        try {
          const s = await api('/auth/login', { method: 'POST', body });
          session.user = s.user;
          session.csrf = s.csrf_token;
          render();
        } catch (e) { err.textContent = e.message; }
      },
    }, fields, err, h('button', { class: 'primary wide', type: 'submit' }, t('login.submit')));
    mount(box,
      h('div', { class: 'login-brand' }, h('span', { class: 'logo big', 'aria-hidden': 'true' }),
        h('div', {}, h('h1', {}, t('app.name')), h('p', { class: 'sub' }, t('app.tagline')))),
      h('h2', {}, t('login.title')), form,
      h('p', { class: 'or' }, t('login.or')),
      h('button', { class: 'ghost wide', type: 'button', onclick: () => { withKey = !withKey; draw(); } },
        withKey ? t('login.with_password') : t('login.with_key')),
      h('div', { class: 'login-lang' }, h('select', {
        'aria-label': t('nav.language'), onchange: (e) => { setLang(e.target.value); render(); },
      }, LANGS.map(([v, l]) => h('option', { value: v, selected: v === lang() }, l)))));
  };
  draw();
  return h('main', { class: 'login' }, box);
}

window.addEventListener('hashchange', render);
window.addEventListener('sy:signed-out', () => { if (session.user) { session.user = null; render(); } });
start();

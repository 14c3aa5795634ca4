// Tasks: a gallery of asynchronous generations (video now; images and music will follow)
// from GET /api/tasks. Cards show the model, prompt, state and progress; a finished video
// plays in the card. While any task on screen is unfinished the page polls every 3 s, and
// unchanged cards are kept as they are so a playing video is not interrupted.

import {
  h, mount, t, addStrings, api, isAdmin, time, ago, money, toast, fail, dialog, options,
  copyButton, table, pill, header,
} from '../lib.js';

addStrings({
  en: {
    'nav.tasks': 'Tasks',
    'tasks.title': 'Tasks', 'tasks.sub': 'Videos and other generations that run in the background. Finished videos play here.',
    'tasks.sub_admin': 'Every user\'s videos and other background generations. Finished videos play here.',
    'tasks.state': 'State', 'tasks.model': 'Model', 'tasks.kind': 'Kind', 'tasks.user': 'User ID',
    'tasks.model_ph': 'Any model', 'tasks.user_ph': 'Any user',
    'tasks.filter': 'Filter', 'tasks.clear': 'Clear',
    'tasks.s.submitting': 'Submitting', 'tasks.s.queued': 'Queued', 'tasks.s.running': 'Running',
    'tasks.s.succeeded': 'Succeeded', 'tasks.s.failed': 'Failed', 'tasks.s.cancelled': 'Cancelled',
    'tasks.k.video': 'Video',
    'tasks.empty': 'No tasks yet. Start one with a video model in the playground, or through /v1/video/generations.',
    'tasks.empty_filtered': 'No task matches these filters.',
    'tasks.try': 'Open the playground',
    'tasks.progress': 'Progress of {id}', 'tasks.no_prompt': '(no prompt)',
    'tasks.live': 'Updating every 3 s while tasks run', 'tasks.page': 'Page {n} of {of}',
    'tasks.cancel': 'Cancel task', 'tasks.cancel_confirm': 'Cancel this task? Its hold is refunded.',
    'tasks.cancelled_ok': 'Task cancelled; nothing is charged.',
    'tasks.details': 'Details', 'tasks.detail_title': 'Task {id}',
    'tasks.video_label': 'Video: {prompt}', 'tasks.open': 'Open the video', 'tasks.download': 'Download',
    'tasks.waiting': 'The video appears here when it is ready.',
    'tasks.f.id': 'ID', 'tasks.f.front': 'Requested through', 'tasks.f.cost': 'Cost',
    'tasks.f.held': '{amount} held', 'tasks.f.charged': '{amount} charged', 'tasks.f.created': 'Created',
    'tasks.f.finished': 'Finished', 'tasks.f.error': 'Error', 'tasks.f.user': 'User',
    'tasks.f.channel': 'Channel', 'tasks.f.hook': 'Webhook', 'tasks.f.duration': 'Duration',
    'tasks.f.size': 'Size',
    'tasks.raw': 'Raw task JSON', 'tasks.copy_json': 'Copy the task JSON',
    'tasks.deliveries': 'Webhook deliveries', 'tasks.no_hook': 'No webhook was set for this task (notify_hook).',
    'tasks.no_deliveries': 'No delivery yet.',
    'tasks.d.event': 'Event', 'tasks.d.status': 'Status', 'tasks.d.attempts': 'Attempts',
    'tasks.d.last': 'Last answer', 'tasks.d.when': 'Created', 'tasks.d.delivered': 'Delivered',
    'tasks.unknown_kind': 'A {kind} task',
  },
  zh: {
    'nav.tasks': '任务',
    'tasks.title': '任务', 'tasks.sub': '在后台运行的视频等生成任务。生成完成的视频可直接在此播放。',
    'tasks.sub_admin': '所有用户的视频等后台生成任务。生成完成的视频可直接在此播放。',
    'tasks.state': '状态', 'tasks.model': '模型', 'tasks.kind': '类型', 'tasks.user': '用户 ID',
    'tasks.model_ph': '全部模型', 'tasks.user_ph': '全部用户',
    'tasks.filter': '筛选', 'tasks.clear': '清除',
    'tasks.s.submitting': '提交中', 'tasks.s.queued': '排队中', 'tasks.s.running': '生成中',
    'tasks.s.succeeded': '已完成', 'tasks.s.failed': '失败', 'tasks.s.cancelled': '已取消',
    'tasks.k.video': '视频',
    'tasks.empty': '还没有任务。可以在在线调试里选择视频模型发起，或调用 /v1/video/generations。',
    'tasks.empty_filtered': '没有符合筛选条件的任务。',
    'tasks.try': '打开在线调试',
    'tasks.progress': '{id} 的进度', 'tasks.no_prompt': '（无提示词）',
    'tasks.live': '有任务进行中，每 3 秒自动刷新', 'tasks.page': '第 {n} 页，共 {of} 页',
    'tasks.cancel': '取消任务', 'tasks.cancel_confirm': '确定取消这个任务吗？预扣的费用会退回。',
    'tasks.cancelled_ok': '任务已取消，不会扣费。',
    'tasks.details': '详情', 'tasks.detail_title': '任务 {id}',
    'tasks.video_label': '视频：{prompt}', 'tasks.open': '打开视频', 'tasks.download': '下载',
    'tasks.waiting': '视频生成完成后会显示在这里。',
    'tasks.f.id': 'ID', 'tasks.f.front': '请求入口', 'tasks.f.cost': '费用',
    'tasks.f.held': '预扣 {amount}', 'tasks.f.charged': '实扣 {amount}', 'tasks.f.created': '创建时间',
    'tasks.f.finished': '完成时间', 'tasks.f.error': '错误', 'tasks.f.user': '用户',
    'tasks.f.channel': '渠道', 'tasks.f.hook': '回调地址', 'tasks.f.duration': '时长',
    'tasks.f.size': '尺寸',
    'tasks.raw': '任务原始 JSON', 'tasks.copy_json': '复制任务 JSON',
    'tasks.deliveries': '回调投递记录', 'tasks.no_hook': '这个任务没有设置回调（notify_hook）。',
    'tasks.no_deliveries': '还没有投递。',
    'tasks.d.event': '事件', 'tasks.d.status': '状态', 'tasks.d.attempts': '尝试次数',
    'tasks.d.last': '最近响应', 'tasks.d.when': '创建时间', 'tasks.d.delivered': '送达时间',
    'tasks.unknown_kind': '{kind} 任务',
  },
});

const STATES = ['submitting', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];
const ACTIVE = new Set(['submitting', 'queued', 'running']);
const PAGE = 24;
const POLL_MS = 3000;

export const isActive = (task) => ACTIVE.has(task.state);

function stateKind(state) {
  if (state === 'succeeded') return 'ok';
  if (state === 'failed') return 'bad';
  if (state === 'running' || state === 'queued' || state === 'submitting') return 'warn';
  return 'idle';
}

export function statePill(state) {
  return pill(t('tasks.s.' + state) === 'tasks.s.' + state ? state : t('tasks.s.' + state), stateKind(state));
}

/** A progress bar screen readers announce; finished tasks show full or empty. */
function progressBar(task) {
  const value = task.state === 'succeeded' ? 100 : Math.max(0, Math.min(100, task.progress || 0));
  return h('div', {
    class: 'task-progress ' + stateKind(task.state), role: 'progressbar',
    'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(value),
    'aria-label': t('tasks.progress', { id: task.id }),
  }, h('span', { style: { width: value + '%' } }));
}

const promptOf = (task) => (task.request && task.request.prompt) || '';

/** The playable result of a video task: the gateway's own (signed) link or the provider's. */
export function videoUrl(task) {
  return (task.result && task.result.video_url) || null;
}

function videoMedia(task) {
  const url = videoUrl(task);
  if (task.state === 'succeeded' && url) {
    return h('video', {
      class: 'task-video', controls: true, playsinline: true, preload: 'metadata', src: url,
      poster: task.result.thumbnail_url || undefined,
      'aria-label': t('tasks.video_label', { prompt: promptOf(task) || task.id }),
    });
  }
  const icon = task.state === 'failed' ? '⚠️' : task.state === 'cancelled' ? '⏹' : '🎬';
  return h('div', { class: 'task-placeholder ' + stateKind(task.state), 'aria-hidden': 'true' },
    h('span', { class: 'task-ph-icon' }, icon),
    isActive(task) ? h('span', { class: 'task-ph-pct' }, (task.progress || 0) + '%') : null);
}

/**
 * Card renderers by task kind. Each returns the media area; the common card frame (model,
 * prompt, state, progress, actions) is shared. Images and music add an entry here.
 */
const MEDIA = {
  video: videoMedia,
};

function genericMedia(task) {
  return h('div', { class: 'task-placeholder idle' }, t('tasks.unknown_kind', { kind: task.kind }));
}

function card(task, actions) {
  const media = (MEDIA[task.kind] || genericMedia)(task);
  const prompt = promptOf(task);
  return h('article', { class: 'task-card', 'aria-label': `${task.model}: ${prompt || task.id}`, dataset: { id: task.id } },
    h('div', { class: 'task-media' }, media),
    h('div', { class: 'task-body' },
      h('div', { class: 'task-line' }, h('strong', { class: 'task-model' }, task.model), statePill(task.state)),
      h('p', { class: 'task-prompt', title: prompt }, prompt || h('span', { class: 'muted' }, t('tasks.no_prompt'))),
      progressBar(task),
      task.error ? h('p', { class: 'task-error' }, task.error) : null,
      h('div', { class: 'task-line' },
        h('time', { class: 'muted', datetime: new Date(task.created_at).toISOString(), title: time(task.created_at) }, ago(task.created_at)),
        h('span', { class: 'actions' },
          isActive(task) ? h('button', { class: 'small danger', type: 'button', onclick: () => actions.cancel(task) }, t('tasks.cancel')) : null,
          h('button', { class: 'small', type: 'button', 'aria-label': `${t('tasks.details')}: ${task.id}`, onclick: () => actions.details(task.id) }, t('tasks.details'))))));
}

/** What decides whether a card must be redrawn. */
const signature = (task) => [task.state, task.progress, task.updated_at, task.error].join('|');

/** Ask in the console's own dialog (a native confirm() blocks the page and test drivers). */
function confirmCancel() {
  return dialog(t('tasks.cancel'), h('p', {}, t('tasks.cancel_confirm')), [
    (close) => h('button', { type: 'button', onclick: () => close(false) }, t('common.no')),
    (close) => h('button', { type: 'button', class: 'primary danger', onclick: () => close(true) }, t('tasks.cancel')),
  ]);
}

async function cancelTask(task, after) {
  if (!(await confirmCancel())) return;
  try {
    await api(`/tasks/${encodeURIComponent(task.id)}/cancel`, { method: 'POST' });
    toast(t('tasks.cancelled_ok'));
  } catch (e) { fail(e); }
  after();
}

function kv(label, value) {
  return value === null || value === undefined || value === '' ? null : [h('dt', {}, label), h('dd', {}, value)];
}

function deliveriesView(task) {
  const rows = task.deliveries || [];
  if (!task.notify_hook && !rows.length) return h('p', { class: 'muted' }, t('tasks.no_hook'));
  return table([
    { label: t('tasks.d.event'), cell: (d) => d.event },
    { label: t('tasks.d.status'), cell: (d) => pill(d.status, d.status === 'delivered' ? 'ok' : d.status === 'failed' ? 'bad' : 'warn') },
    { label: t('tasks.d.attempts'), cell: (d) => String(d.attempts), class: 'num' },
    { label: t('tasks.d.last'), cell: (d) => [d.last_status ? String(d.last_status) : '', d.last_error ? ' ' + d.last_error : ''].join('') || '—' },
    { label: t('tasks.d.when'), cell: (d) => time(d.created_at) },
    { label: t('tasks.d.delivered'), cell: (d) => time(d.delivered_at) },
  ], rows, { empty: t('tasks.no_deliveries'), caption: t('tasks.deliveries') });
}

/** The detail dialog: facts, the video, webhook deliveries and the raw JSON. */
async function showDetails(id, after) {
  let task;
  try { task = await api(`/tasks/${encodeURIComponent(id)}`); } catch (e) { fail(e); return; }
  const r = task.result || {};
  const cost = isActive(task) ? t('tasks.f.held', { amount: money(task.cost_held_nano) }) : t('tasks.f.charged', { amount: money(task.cost_charged_nano) });
  const url = videoUrl(task);
  const body = h('div', { class: 'task-detail' },
    task.state === 'succeeded' && url ? h('div', { class: 'task-media' }, videoMedia(task),
      h('p', {}, h('a', { href: url, target: '_blank', rel: 'noopener' }, t('tasks.open')), ' · ',
        h('a', { href: url, download: '' }, t('tasks.download')))) : null,
    h('dl', { class: 'kv' },
      kv(t('tasks.f.id'), h('code', {}, task.id)),
      kv(t('tasks.state'), statePill(task.state)),
      kv(t('tasks.model'), task.model),
      kv(t('tasks.f.front'), task.front),
      kv(t('tasks.f.user'), isAdmin() ? h('code', {}, task.user_id) : null),
      kv(t('tasks.f.channel'), task.channel_id ? h('code', {}, task.channel_id + (task.provider ? ` (${task.provider})` : '')) : null),
      kv(t('tasks.f.cost'), cost),
      kv(t('tasks.f.duration'), r.duration ? r.duration + ' s' : null),
      kv(t('tasks.f.size'), r.width && r.height ? `${r.width}×${r.height}` : null),
      kv(t('tasks.f.created'), time(task.created_at)),
      kv(t('tasks.f.finished'), task.finished_at ? time(task.finished_at) : null),
      kv(t('tasks.f.hook'), task.notify_hook),
      kv(t('tasks.f.error'), task.error)),
    h('h3', {}, t('tasks.deliveries')), deliveriesView(task),
    h('details', { class: 'raw' }, h('summary', {}, t('tasks.raw')),
      h('div', { class: 'actions' }, copyButton(JSON.stringify(task, null, 2), t('tasks.copy_json'))),
      h('pre', {}, JSON.stringify(task, null, 2))));
  const actions = isActive(task) ? [(close) => h('button', {
    class: 'danger', type: 'button',
    onclick: async () => { close(); await cancelTask(task, after); },
  }, t('tasks.cancel'))] : [];
  actions.push((close) => h('button', { type: 'button', onclick: () => close() }, t('common.close')));
  await dialog(t('tasks.detail_title', { id: task.id }), body, actions);
}

export default {
  path: 'tasks', title: 'nav.tasks', admin: false, icon: '▶',
  async render(main, ctx) {
    const admin = isAdmin();
    const f = {
      state: ctx.query.get('state') || '', model: ctx.query.get('model') || '', kind: ctx.query.get('kind') || '',
      user_id: ctx.query.get('user_id') || '', offset: 0,
    };
    let timer = null;
    let alive = true;
    let loading = false;
    const cards = new Map(); // id → {sig, el}
    const grid = h('div', { class: 'task-grid', 'aria-live': 'polite', 'aria-busy': 'true' });
    const status = h('p', { class: 'muted task-live', role: 'status' });
    const pager = h('div', { class: 'pager' });
    const models = h('datalist', { id: 'tasks-models' });
    const seenModels = new Set();

    const actions = {
      cancel: (task) => cancelTask(task, load),
      details: (id) => showDetails(id, load),
    };

    const schedule = (on) => {
      clearTimeout(timer);
      timer = null;
      if (on && alive) timer = setTimeout(tick, POLL_MS);
    };
    // A hidden tab does not poll; it catches up when shown again.
    const tick = () => (document.hidden ? schedule(true) : load());

    async function load() {
      if (loading || !alive) return;
      loading = true;
      let data; let total = 0;
      try {
        ({ data, total } = await api('/tasks', { query: { state: f.state, model: f.model, kind: f.kind, user_id: admin ? f.user_id : '', limit: PAGE, offset: f.offset } }));
      } catch (e) {
        loading = false;
        if (!alive) return;
        fail(e);
        schedule(true); // keep trying: a restart of the gateway should not freeze the gallery
        return;
      }
      loading = false;
      if (!alive) return;
      draw(data, total);
      const running = data.some(isActive);
      status.textContent = running ? t('tasks.live') : '';
      schedule(running);
    }

    function draw(data, total) {
      grid.setAttribute('aria-busy', 'false');
      for (const task of data) if (!seenModels.has(task.model)) { seenModels.add(task.model); models.append(h('option', { value: task.model })); }
      if (!data.length) {
        cards.clear();
        const filtered = f.state || f.model || f.kind || f.user_id || f.offset;
        mount(grid, h('div', { class: 'empty task-empty' },
          h('p', {}, filtered ? t('tasks.empty_filtered') : t('tasks.empty')),
          filtered ? null : h('a', { class: 'button primary', href: '#/playground' }, t('tasks.try'))));
      } else {
        // Keep unchanged cards (a playing video keeps playing); redraw the others.
        const els = data.map((task) => {
          const sig = signature(task);
          const old = cards.get(task.id);
          if (old && old.sig === sig) return old.el;
          const el = card(task, actions);
          cards.set(task.id, { sig, el });
          return el;
        });
        const keep = new Set(data.map((x) => x.id));
        for (const id of [...cards.keys()]) if (!keep.has(id)) cards.delete(id);
        if (els.length !== grid.children.length || els.some((el, i) => grid.children[i] !== el)) mount(grid, els);
      }
      mount(pager,
        h('button', { type: 'button', disabled: f.offset === 0, onclick: () => { f.offset = Math.max(0, f.offset - PAGE); load(); } }, t('common.prev')),
        h('span', { class: 'muted' }, t('tasks.page', { n: f.offset / PAGE + 1, of: Math.max(1, Math.ceil(total / PAGE)) })),
        h('button', { type: 'button', disabled: f.offset + PAGE >= total, onclick: () => { f.offset += PAGE; load(); } }, t('common.next')));
    }

    const stateSel = h('select', { id: 'tasks-state', name: 'state' },
      options([['', t('common.all')], ...STATES.map((s) => [s, t('tasks.s.' + s)])], f.state));
    const kindSel = h('select', { id: 'tasks-kind', name: 'kind' }, options([['', t('common.all')], ['video', t('tasks.k.video')]], f.kind));
    const modelIn = h('input', { id: 'tasks-model', name: 'model', list: 'tasks-models', placeholder: t('tasks.model_ph'), value: f.model, autocomplete: 'off' });
    const userIn = admin ? h('input', { id: 'tasks-user', name: 'user_id', placeholder: t('tasks.user_ph'), value: f.user_id, autocomplete: 'off' }) : null;
    const apply = (ev) => {
      ev?.preventDefault();
      f.state = stateSel.value; f.kind = kindSel.value; f.model = modelIn.value.trim();
      f.user_id = userIn ? userIn.value.trim() : ''; f.offset = 0;
      cards.clear();
      load();
    };
    stateSel.onchange = apply;
    kindSel.onchange = apply;
    const labelled = (id, label, control) => h('div', { class: 'field' }, h('label', { for: id }, label), control);
    const filters = h('form', { class: 'filters task-filters', role: 'search', onsubmit: apply },
      labelled('tasks-state', t('tasks.state'), stateSel),
      labelled('tasks-model', t('tasks.model'), modelIn),
      labelled('tasks-kind', t('tasks.kind'), kindSel),
      userIn ? labelled('tasks-user', t('tasks.user'), userIn) : null,
      h('button', { type: 'submit' }, t('tasks.filter')),
      h('button', {
        type: 'button', class: 'ghost',
        onclick: () => { stateSel.value = ''; kindSel.value = ''; modelIn.value = ''; if (userIn) userIn.value = ''; apply(); },
      }, t('tasks.clear')));

    mount(main,
      header(t('tasks.title'), admin ? t('tasks.sub_admin') : t('tasks.sub'),
        h('button', { type: 'button', onclick: () => load() }, t('common.refresh'))),
      filters, models, status, grid, pager);
    const onVisible = () => { if (!document.hidden && timer) { schedule(false); load(); } };
    document.addEventListener('visibilitychange', onVisible);
    await load();
    if (ctx.params[0]) actions.details(ctx.params[0]);
    return () => {
      alive = false;
      schedule(false);
      document.removeEventListener('visibilitychange', onVisible);
    };
  },
};

// Prices: what each model costs, in USD per 1M tokens, per call or per second of video,
// and what a typical request comes to. Everyone reads; admins add, edit and delete.
// Amounts are typed in dollars and sent as integer nano-dollars (PUT /api/prices/{model}).

import {
  h, mount, t, addStrings, api, isAdmin, money, toNano, dollars, time, pill, header, fail, toast, table, dialog, formDialog, field,
} from '../lib.js';

addStrings({
  en: {
    'nav.prices': 'Prices',
    'prices.sub': 'What each model costs. A model without a price (and not free) is refused.',
    'prices.add': 'Add price', 'prices.search': 'Search models', 'prices.search_ph': 'Model name',
    'prices.model': 'Model', 'prices.input': 'Input / 1M', 'prices.output': 'Output / 1M', 'prices.cached': 'Cached / 1M',
    'prices.per_unit': 'Per call / second', 'prices.typical': 'Typical request', 'prices.updated': 'Updated',
    'prices.actions': 'Actions', 'prices.free': 'Free', 'prices.as_input': 'as input',
    'prices.per_call': '{amount} / call', 'prices.per_second': '{amount} / s',
    'prices.typical_tokens': '1,000 in + 500 out', 'prices.typical_call': 'one call', 'prices.typical_video': '5 s video',
    'prices.typical_note': 'Typical request: 1,000 input and 500 output tokens, one call, or a 5-second video.',
    'prices.pattern': 'pattern',
    'prices.add_title': 'Add a price', 'prices.edit_title': 'Price of {model}',
    'prices.f_model': 'Model', 'prices.f_model_hint': 'Exact name, or a prefix ending in * (e.g. "gpt-4o*"); an exact name wins.',
    'prices.f_input': 'Input (USD per 1M tokens)', 'prices.f_output': 'Output (USD per 1M tokens)',
    'prices.f_cached': 'Cached input (USD per 1M tokens)', 'prices.f_cached_hint': 'Empty = cached tokens billed as input.',
    'prices.f_call': 'Per call (USD)', 'prices.f_call_hint': 'Images, transcriptions, videos priced per video…',
    'prices.f_second': 'Per second of video (USD)',
    'prices.f_free': 'Free (serve without charge)', 'prices.bad': 'Enter an amount in USD (≥ 0), e.g. 0.15.',
    'prices.need_model': 'Give a model name.',
    'prices.confirm_delete': 'Delete the price of "{model}"? Requests for it will be refused unless another price matches.',
    'prices.deleted': 'Price deleted.', 'prices.saved': 'Price saved.',
    'prices.empty': 'No prices yet.', 'prices.none_match': 'No model matches.',
  },
  zh: {
    'nav.prices': '模型价格',
    'prices.sub': '每个模型的价格。没有价格（且未设为免费）的模型会被拒绝。',
    'prices.add': '添加价格', 'prices.search': '搜索模型', 'prices.search_ph': '模型名称',
    'prices.model': '模型', 'prices.input': '输入 / 百万', 'prices.output': '输出 / 百万', 'prices.cached': '缓存 / 百万',
    'prices.per_unit': '按次 / 按秒', 'prices.typical': '典型请求', 'prices.updated': '更新时间',
    'prices.actions': '操作', 'prices.free': '免费', 'prices.as_input': '按输入计',
    'prices.per_call': '{amount} / 次', 'prices.per_second': '{amount} / 秒',
    'prices.typical_tokens': '输入 1000 + 输出 500', 'prices.typical_call': '调用一次', 'prices.typical_video': '5 秒视频',
    'prices.typical_note': '典型请求：1000 输入 Token 加 500 输出 Token，或调用一次，或生成 5 秒视频。',
    'prices.pattern': '通配',
    'prices.add_title': '添加价格', 'prices.edit_title': '{model} 的价格',
    'prices.f_model': '模型', 'prices.f_model_hint': '精确名称，或以 * 结尾的前缀（如 “gpt-4o*”）；精确名称优先。',
    'prices.f_input': '输入（美元 / 百万 Token）', 'prices.f_output': '输出（美元 / 百万 Token）',
    'prices.f_cached': '缓存输入（美元 / 百万 Token）', 'prices.f_cached_hint': '留空表示缓存 Token 按输入计费。',
    'prices.f_call': '按次（美元）', 'prices.f_call_hint': '图片、转写、按条计费的视频等。',
    'prices.f_second': '视频每秒（美元）',
    'prices.f_free': '免费（不计费）', 'prices.bad': '请输入美元金额（≥ 0），例如 0.15。',
    'prices.need_model': '请填写模型名称。',
    'prices.confirm_delete': '删除“{model}”的价格？除非有其他价格匹配，该模型的请求将被拒绝。',
    'prices.deleted': '价格已删除。', 'prices.saved': '价格已保存。',
    'prices.empty': '还没有价格。', 'prices.none_match': '没有匹配的模型。',
  },
});

const M = 1_000_000;

/** USD per unit with enough digits for cheap models: $0.075, $15, $0.0000. */
function usd(nano) {
  if (!nano) return '$0';
  const d = nano / 1e9;
  return '$' + (d >= 100 ? d.toFixed(2).replace(/\.00$/, '') : String(+d.toPrecision(6)));
}

/** What one typical request costs, and what "typical" meant for this model. */
function typical(p) {
  if (p.free) return [0, t('prices.free')];
  if (p.input_nano_per_mtok || p.output_nano_per_mtok) {
    const cost = Math.round((1000 * p.input_nano_per_mtok + 500 * p.output_nano_per_mtok) / M) + (p.per_call_nano || 0);
    return [cost, t('prices.typical_tokens')];
  }
  if (p.per_second_nano) return [5 * p.per_second_nano + (p.per_call_nano || 0), t('prices.typical_video')];
  return [p.per_call_nano || 0, t('prices.typical_call')];
}

export default {
  path: 'prices', title: 'nav.prices', admin: false, icon: '¤',
  async render(main) {
    const st = { prices: [], q: '' };
    const listBox = h('div', {});
    mount(main,
      header(t('nav.prices'), t('prices.sub'),
        isAdmin() ? h('button', { type: 'button', class: 'primary', onclick: () => edit(null) }, t('prices.add')) : null,
        h('button', { type: 'button', onclick: () => load() }, t('common.refresh'))),
      h('div', { class: 'filters' }, field(t('prices.search'), {
        type: 'search', placeholder: t('prices.search_ph'),
        oninput: (e) => { st.q = e.target.value.trim().toLowerCase(); draw(); },
      })),
      listBox,
      h('p', { class: 'muted small-text' }, t('prices.typical_note')));

    async function load() {
      try {
        st.prices = (await api('/prices')).data.sort((a, b) => a.model.localeCompare(b.model));
        draw();
      } catch (e) { fail(e); }
    }

    function draw() {
      const rows = st.prices.filter((p) => !st.q || p.model.toLowerCase().includes(st.q));
      const tokenCell = (key) => (p) => (p.free ? '—' : p[key] ? usd(p[key]) : h('span', { class: 'muted' }, '—'));
      mount(listBox, table([
        {
          label: t('prices.model'),
          cell: (p) => h('div', { class: 'pills' }, h('code', {}, p.model),
            p.model.endsWith('*') ? pill(t('prices.pattern'), 'idle') : null, p.free ? pill(t('prices.free'), 'ok') : null),
        },
        { label: t('prices.input'), class: 'num', cell: tokenCell('input_nano_per_mtok') },
        { label: t('prices.output'), class: 'num', cell: tokenCell('output_nano_per_mtok') },
        {
          label: t('prices.cached'), class: 'num',
          cell: (p) => (p.free || !(p.input_nano_per_mtok || p.output_nano_per_mtok) ? '—'
            : p.cached_nano_per_mtok === null || p.cached_nano_per_mtok === undefined
              ? h('span', { class: 'muted' }, t('prices.as_input')) : usd(p.cached_nano_per_mtok)),
        },
        {
          label: t('prices.per_unit'), class: 'num',
          cell: (p) => (p.free ? '—' : [p.per_call_nano ? t('prices.per_call', { amount: usd(p.per_call_nano) }) : null,
            p.per_second_nano ? t('prices.per_second', { amount: usd(p.per_second_nano) }) : null].filter(Boolean).join(' + ') || h('span', { class: 'muted' }, '—')),
        },
        {
          label: t('prices.typical'), class: 'num',
          cell: (p) => { const [c, what] = typical(p); return h('div', {}, h('strong', {}, money(c)), h('div', { class: 'muted small-text' }, what)); },
        },
        { label: t('prices.updated'), cell: (p) => h('span', { class: 'small-text' }, time(p.updated_at)) },
        isAdmin() ? { label: t('prices.actions'), cell: (p) => actions(p) } : null,
      ].filter(Boolean), rows, {
        empty: st.prices.length ? t('prices.none_match') : t('prices.empty'),
        onRow: isAdmin() ? (p) => edit(p) : undefined, caption: t('nav.prices'),
      }));
    }

    function actions(p) {
      return h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', 'aria-label': `${t('common.edit')} ${p.model}`, onclick: () => edit(p) }, t('common.edit')),
        h('button', { type: 'button', class: 'small danger', 'aria-label': `${t('common.delete')} ${p.model}`, onclick: () => remove(p) }, t('common.delete')));
    }

    async function edit(p) {
      const saved = await priceForm(p);
      if (saved) { toast(t('prices.saved')); await load(); }
    }

    async function remove(p) {
      const yes = await dialog(t('common.delete'), h('p', {}, t('prices.confirm_delete', { model: p.model })), [
        (close) => h('button', { type: 'button', onclick: () => close(false) }, t('common.cancel')),
        (close) => h('button', { type: 'button', class: 'primary', onclick: () => close(true) }, t('common.delete')),
      ]);
      if (!yes) return;
      try {
        await api('/prices/' + modelPath(p.model), { method: 'DELETE' });
        toast(t('prices.deleted'));
        await load();
      } catch (e) { fail(e); }
    }

    await load();
  },
};

/** Model names may hold "/" and "*": the API takes them as they are, each segment encoded. */
function modelPath(model) {
  return model.split('/').map((s) => encodeURIComponent(s).replace(/%2A/gi, '*')).join('/');
}

function priceForm(p) {
  const editing = !!p;
  const money = (name, label, value, hint) => field(label, { name, inputmode: 'decimal', value: dollars(value), placeholder: '0', autocomplete: 'off', hint });
  const fields = [
    field(t('prices.f_model'), { name: 'model', required: true, value: p?.model || '', readonly: editing, autocomplete: 'off', hint: t('prices.f_model_hint') }),
    h('div', { class: 'row top' },
      money('input', t('prices.f_input'), p?.input_nano_per_mtok),
      money('output', t('prices.f_output'), p?.output_nano_per_mtok)),
    money('cached', t('prices.f_cached'), p ? p.cached_nano_per_mtok : null, t('prices.f_cached_hint')),
    h('div', { class: 'row top' },
      money('per_call', t('prices.f_call'), p?.per_call_nano, t('prices.f_call_hint')),
      money('per_second', t('prices.f_second'), p?.per_second_nano)),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'free', checked: !!p?.free }), t('prices.f_free')),
  ];
  return formDialog(editing ? t('prices.edit_title', { model: p.model }) : t('prices.add_title'), fields, async (fd) => {
    const model = String(fd.get('model')).trim();
    if (!model) throw Object.assign(new Error(t('prices.need_model')), { param: 'model' });
    const amount = (name) => {
      const s = String(fd.get(name) || '').trim().replace('$', '');
      if (!s) return null;
      const n = toNano(s);
      if (!Number.isFinite(n) || n < 0) throw Object.assign(new Error(t('prices.bad')), { param: name });
      return Math.round(n);
    };
    const body = {
      input_nano_per_mtok: amount('input') || 0,
      output_nano_per_mtok: amount('output') || 0,
      per_call_nano: amount('per_call') || 0,
      free: fd.get('free') === 'on',
    };
    const cached = amount('cached');
    if (cached !== null) body.cached_nano_per_mtok = cached;
    // PUT replaces the whole price; per-second pricing is only sent when there is one.
    const perSecond = amount('per_second');
    if (perSecond) body.per_second_nano = perSecond;
    return api('/prices/' + modelPath(model), { method: 'PUT', body });
  }, editing ? t('common.save') : t('common.create'));
}

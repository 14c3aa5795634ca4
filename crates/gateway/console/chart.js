// Small SVG charts drawn here (no chart library, so the console works offline and stays
// small): a time series of one or more lines/bars, and a horizontal bar list.

const NS = 'http://www.w3.org/2000/svg';
export const COLORS = ['#2f6feb', '#8957e5', '#1a7f37', '#bf8700', '#cf222e', '#0a7ea4', '#9e6a03', '#6e7781'];

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * A time series. points: [{t: ms, …values}], series: [{key, label, color?, kind: 'line'|'bar'}],
 * format: value → label for the axis and tooltips, timeLabel: ms → label.
 */
export function timeChart({ points, series, format = String, timeLabel, title, height = 200 }) {
  const W = 640, H = height, L = 56, R = 12, T = 12, B = 26;
  const max = niceMax(Math.max(0, ...points.flatMap((p) => series.map((se) => p[se.key] || 0))));
  const n = Math.max(points.length, 1);
  const x = (i) => L + ((W - L - R) * (i + 0.5)) / n;
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title || '' });
  if (title) svg.append(s('title', {}, title));
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'axis', 'stroke-dasharray': i ? '2 3' : '' }),
      s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, format(v)));
  }
  const step = Math.max(1, Math.ceil(n / 6));
  points.forEach((p, i) => {
    if (i % step === 0 && timeLabel) svg.append(s('text', { x: x(i), y: H - 8, 'text-anchor': 'middle' }, timeLabel(p.t)));
  });
  const bw = Math.max(2, ((W - L - R) / n) * 0.7 / Math.max(1, series.filter((se) => se.kind === 'bar').length));
  let barIndex = 0;
  series.forEach((se, si) => {
    const color = se.color || COLORS[si % COLORS.length];
    if (se.kind === 'bar') {
      const off = barIndex++;
      points.forEach((p, i) => {
        const v = p[se.key] || 0;
        if (!v) return;
        const r = s('rect', { x: x(i) - bw * (0.5 + off) + off * bw * 0.5, y: y(v), width: bw, height: y(0) - y(v), fill: color, rx: 1 });
        r.append(s('title', {}, `${se.label}: ${format(v)}`));
        svg.append(r);
      });
    } else {
      const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p[se.key] || 0).toFixed(1)}`).join('');
      svg.append(s('path', { d, fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-linejoin': 'round' }));
      points.forEach((p, i) => {
        const c = s('circle', { cx: x(i), cy: y(p[se.key] || 0), r: 2.5, fill: color });
        c.append(s('title', {}, `${timeLabel ? timeLabel(p.t) + ' · ' : ''}${se.label}: ${format(p[se.key] || 0)}`));
        svg.append(c);
      });
    }
  });
  return svg;
}

/** A legend for the series of a chart. */
export function legend(series) {
  const div = document.createElement('div');
  div.className = 'legend';
  series.forEach((se, i) => {
    const span = document.createElement('span');
    const dot = document.createElement('i');
    dot.style.background = se.color || COLORS[i % COLORS.length];
    span.append(dot, se.label);
    div.append(span);
  });
  return div;
}

/** Horizontal bars: rows [{label, value}], format for the number shown. */
export function barList(rows, format = String) {
  const max = Math.max(0, ...rows.map((r) => r.value)) || 1;
  const div = document.createElement('div');
  for (const r of rows) {
    const row = document.createElement('div');
    row.className = 'bar-row';
    const label = document.createElement('span');
    label.textContent = r.label;
    label.title = r.label;
    label.style.overflow = 'hidden';
    label.style.textOverflow = 'ellipsis';
    label.style.whiteSpace = 'nowrap';
    const track = document.createElement('div');
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${(100 * r.value) / max}%`;
    bar.setAttribute('role', 'presentation');
    track.append(bar);
    const val = document.createElement('span');
    val.className = 'num';
    val.textContent = format(r.value);
    row.append(label, track, val);
    div.append(row);
  }
  return div;
}

// The live view: polls the Prometheus text at /metrics every 2 s and charts
// the deltas between samples (throughput, success rate, latency).
import { html, useState, useEffect, useRef } from './lib.js';

const EVERY_MS = 2000;
const KEEP = 90; // samples charted: 3 minutes
const WINDOW = 30; // samples summarized in the tiles: the last minute

// parse reads the counters the dashboard charts from Prometheus text format.
function parse(text) {
  const s = { attempts: 0, succeeded: 0, outcomes: 0, sum: 0, count: 0, buckets: [], pending: null };
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue; // comments, blank lines
    const [, name, labels = '', raw] = m;
    const label = (k) => (new RegExp(`${k}="([^"]*)"`).exec(labels) || [])[1];
    const v = Number(raw);
    switch (name) {
      case 'revdesk_delivery_attempts_total': s.attempts += v; break;
      case 'revdesk_deliveries_total':
        s.outcomes += v;
        if (label('outcome') === 'succeeded') s.succeeded += v;
        break;
      case 'revdesk_delivery_attempt_duration_seconds_sum': s.sum = v; break;
      case 'revdesk_delivery_attempt_duration_seconds_count': s.count = v; break;
      case 'revdesk_delivery_attempt_duration_seconds_bucket': {
        const le = label('le');
        s.buckets.push([le === '+Inf' ? Infinity : Number(le), v]);
        break;
      }
      case 'revdesk_deliveries_pending': s.pending = v; break;
      default:
    }
  }
  return s;
}

// delta is what happened between two samples; null after a counter reset
// (a restarted server), which is not a negative rate.
function delta(a, b) {
  if (b.attempts < a.attempts || b.count < a.count) return null;
  return {
    t: b.t, dt: b.t - a.t, attempts: b.attempts - a.attempts, succeeded: b.succeeded - a.succeeded,
    outcomes: b.outcomes - a.outcomes, sum: b.sum - a.sum, count: b.count - a.count,
    buckets: b.buckets.map(([le, n], i) => [le, n - ((a.buckets[i] || [])[1] || 0)]),
  };
}

function merge(ds) {
  const m = { dt: 0, attempts: 0, succeeded: 0, outcomes: 0, sum: 0, count: 0, buckets: ds.length ? ds[0].buckets.map(([le]) => [le, 0]) : [] };
  for (const d of ds) {
    for (const k of ['dt', 'attempts', 'succeeded', 'outcomes', 'sum', 'count']) m[k] += d[k];
    d.buckets.forEach(([, n], i) => { if (m.buckets[i]) m.buckets[i][1] += n; });
  }
  return m;
}

// quantile interpolates within the histogram bucket holding rank q, as
// Prometheus's histogram_quantile does.
function quantile(q, buckets, count) {
  if (!count) return null;
  const rank = q * count;
  let prevLe = 0;
  let prevN = 0;
  for (const [le, n] of buckets) {
    if (n >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + (le - prevLe) * ((rank - prevN) / Math.max(n - prevN, 1e-9));
    }
    prevLe = le;
    prevN = n;
  }
  return null;
}

function stats(d) {
  return {
    rate: d.dt > 0 ? d.attempts / d.dt : 0,
    success: d.outcomes > 0 ? (100 * d.succeeded) / d.outcomes : null,
    mean: d.count > 0 ? (1000 * d.sum) / d.count : null,
    p95: d.count > 0 ? 1000 * quantile(0.95, d.buckets, d.count) : null,
  };
}

// useMetrics polls while enabled (signed in) so the history is there when
// the live view opens.
export function useMetrics(enabled) {
  const [state, setState] = useState({ deltas: [], last: null, error: '' });
  useEffect(() => {
    if (!enabled) return undefined;
    let prev = null;
    let stopped = false;
    const tick = async () => {
      try {
        const res = await fetch('/metrics', { cache: 'no-store' });
        if (!res.ok) throw new Error(`GET /metrics answered HTTP ${res.status}`);
        const cur = { ...parse(await res.text()), t: Date.now() / 1000 };
        const d = prev && delta(prev, cur);
        prev = cur;
        if (!stopped) setState((s) => ({ deltas: d ? [...s.deltas, d].slice(-KEEP) : s.deltas, last: cur, error: '' }));
      } catch (e) {
        if (!stopped) setState((s) => ({ ...s, error: e.message }));
      }
    };
    tick();
    const timer = setInterval(tick, EVERY_MS);
    return () => { stopped = true; clearInterval(timer); };
  }, [enabled]);
  return state;
}

const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function Chart({ id, title, summary, data, series, axes, scales }) {
  const el = useRef();
  const plot = useRef();
  useEffect(() => {
    const height = 220;
    plot.current = new window.uPlot({ width: el.current.clientWidth, height, series, axes, scales, legend: { live: false }, cursor: { drag: { x: false } } }, data, el.current);
    // Redraw at the container's width so the chart follows narrow screens.
    const ro = new ResizeObserver(() => plot.current.setSize({ width: el.current.clientWidth, height }));
    ro.observe(el.current);
    return () => { ro.disconnect(); plot.current.destroy(); };
  }, []);
  useEffect(() => plot.current && plot.current.setData(data), [data]);
  return html`<figure class="card chart" id=${id}>
    <figcaption>${title}</figcaption>
    <div ref=${el} role="img" aria-label=${`${title}: ${summary}`} data-points=${data[0].length}></div>
  </figure>`;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const fmt = (v, unit, digits = 1) => (v == null ? '—' : `${v.toFixed(digits)}${unit}`);

export function Live({ metrics }) {
  const { deltas, last, error } = metrics;
  const points = deltas.map((d) => ({ t: d.t, ...stats(d) }));
  const win = stats(merge(deltas.slice(-WINDOW)));
  const t = points.map((p) => p.t);
  // At least a minute wide, ending at the newest sample, so the chart scrolls.
  const xScale = {
    time: true,
    range: (u, min, max) => {
      const end = max == null ? Date.now() / 1000 : max;
      return [Math.min(min == null ? end : min, end - 60), end];
    },
  };
  // Only the left axis draws grid lines; a right axis's would double them.
  const axis = (label, scale, side = 2) => ({ label, scale, side, stroke: cssVar('--muted'), grid: { show: side !== 1, stroke: cssVar('--grid') } });
  // One line of clock time per tick: uPlot's default adds a date line that
  // crowds a narrow chart.
  const timeAxis = { ...axis('', 'x'), space: 80, size: 32, values: (u, ticks) => ticks.map((v) => clock.format(new Date(v * 1000))) };
  const line = (label, scale, color, dash) => ({ label, scale, stroke: color, width: 2, dash, spanGaps: false, points: { show: false } });
  const tiles = [
    ['Attempts per second', fmt(win.rate, '', 2)],
    ['Success rate', fmt(win.success, ' %')],
    ['Mean latency', fmt(win.mean, ' ms')],
    ['p95 latency', fmt(win.p95, ' ms')],
    ['Pending deliveries', last && last.pending != null ? String(last.pending) : '—'],
    ['Attempts since start', last ? String(last.attempts) : '—'],
  ];
  return html`<h1>Live</h1>
    <p class="muted">From <code>/metrics</code>, sampled every 2 seconds; tiles cover the last minute.</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <ul class="tiles" aria-label="Last minute">
      ${tiles.map(([label, value]) => html`<li class="card tile"><span class="tile-label">${label}</span><span class="tile-value">${value}</span></li>`)}
    </ul>
    <div class="charts">
      <${Chart} id="chart-throughput" title="Throughput and success rate" data=${[t, points.map((p) => p.rate), points.map((p) => p.success)]}
        summary=${`${tiles[0][1]} attempts per second, ${tiles[1][1]} succeeded in the last minute`}
        scales=${{ x: xScale, rate: { range: (u, min, max) => [0, Math.max(1, max)] }, pct: { range: [0, 100] } }}
        series=${[{ label: 'Time' }, line('attempts/s', 'rate', cssVar('--accent')), line('success %', 'pct', cssVar('--ok'), [6, 4])]}
        axes=${[timeAxis, axis('attempts/s', 'rate', 3), axis('success %', 'pct', 1)]} />
      <${Chart} id="chart-latency" title="Attempt latency" data=${[t, points.map((p) => p.mean), points.map((p) => p.p95)]}
        summary=${`mean ${tiles[2][1]}, p95 ${tiles[3][1]}`}
        scales=${{ x: xScale, ms: { range: (u, min, max) => [0, Math.max(10, max)] } }}
        series=${[{ label: 'Time' }, line('mean ms', 'ms', cssVar('--accent')), line('p95 ms', 'ms', cssVar('--warn'), [6, 4])]}
        axes=${[timeAxis, axis('ms', 'ms', 3)]} />
    </div>`;
}

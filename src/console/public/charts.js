// Live charts of message counts (GET /v1/admin/stats/series, or /v1/stats/series for an
// account's own): messages per bucket by what happened to them, the delivery ratio, the
// receipt latency (median and 95th percentile) and, for an admin, the queue depth. Drawn on
// canvas by uPlot, which the gateway serves itself (no CDN).
import { errorText, query } from './api.js';
import { every, field, h } from './dom.js';
import uPlot from './uPlot.esm.js';

export const seriesMetrics = ['accepted', 'submitted', 'delivered', 'failed', 'inbound'];
const colours = {
  accepted: '#2156d1',
  submitted: '#7a5af8',
  delivered: '#137a3a',
  failed: '#b42318',
  inbound: '#9a6700',
};

/** The ranges offered, each with the bucket it is drawn in. */
const ranges = [
  { label: 'Last hour', seconds: 3600, step: 60 },
  { label: 'Last 6 hours', seconds: 6 * 3600, step: 300 },
  { label: 'Last 24 hours', seconds: 24 * 3600, step: 900 },
  { label: 'Last 7 days', seconds: 7 * 24 * 3600, step: 3600 },
];
const refreshMs = 5000;
/** A series with no value in buckets where nothing settled: its points drawn, joined across the gaps. */
const sparse = { width: 2, spanGaps: true, points: { show: true, size: 6 } };

/**
 * The series of each of `metrics` over `range`, as uPlot data: `[times, first, …]`.
 * @param {import('./api.js').Client} client
 * @param {string} path the series endpoint
 * @param {string[]} metrics
 * @param {Record<string, string>} filters `account`, `connector` (admin)
 */
export async function loadSeries(client, path, metrics, filters, { seconds, step }) {
  const to = Math.floor(Date.now() / 1000);
  const answers = await Promise.all(
    metrics.map((metric) =>
      client.get(`${path}${query({ metric, step, from: to - seconds, to, ...filters })}`),
    ),
  );
  const times = answers[0].points.map(([t]) => t);
  return [times, ...answers.map((a) => a.points.map(([, n]) => n))];
}

/** Delivered of delivered and failed, per bucket (null where none settled). */
export function deliveryRatio(delivered, failed) {
  return delivered.map((d, i) => (d + failed[i] > 0 ? d / (d + failed[i]) : null));
}

/**
 * A canvas chart in `figure`, resized with it; `set` gives it data. `yRange`: a fixed
 * range for the y axis (the ratio's 0–1).
 */
function chart(figure, title, series, yLabel, yRange) {
  /** @type {any} */
  let plot = null;
  const width = () => Math.max(300, figure.clientWidth - 16);
  const observer = new ResizeObserver(() => plot?.setSize({ width: width(), height: 220 }));
  observer.observe(figure);
  return {
    set(data) {
      if (plot) {
        plot.setData(data);
        return;
      }
      // Axes in the page's own colours (uPlot's are black: unreadable in the dark scheme).
      const css = getComputedStyle(document.documentElement);
      const text = css.getPropertyValue('--text').trim();
      const line = css.getPropertyValue('--line').trim();
      const axis = { stroke: text, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
      plot = new uPlot(
        {
          title,
          width: width(),
          height: 220,
          series: [{}, ...series],
          axes: [axis, { ...axis, label: yLabel, size: 60 }],
          scales: { x: { time: true }, ...(yRange ? { y: { range: yRange } } : {}) },
        },
        data,
        figure,
      );
    },
    destroy() {
      observer.disconnect();
      plot?.destroy();
    },
  };
}

/**
 * The charts panel: a range picker, optional filters (admin: account and connector), the
 * message counts, the delivery ratio, the receipt latency and (admin) the queue depth,
 * refreshed every few seconds; `data-<metric>` on `#chart-messages` is each metric's total
 * over the range (what the chart shows).
 * @param {import('./api.js').Client} client
 * @param {{ path: string, admin: boolean }} options
 * @returns {{ element: HTMLElement, stop: () => void }}
 */
export function chartsPanel(client, { path, admin }) {
  const range = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { id: 'chart-range' },
      ranges.map((r, i) => h('option', { value: i }, r.label)),
    )
  );
  const account = /** @type {HTMLSelectElement} */ (
    h('select', { id: 'chart-account' }, h('option', { value: '' }, 'every account'))
  );
  const connector = /** @type {HTMLSelectElement} */ (
    h('select', { id: 'chart-connector' }, h('option', { value: '' }, 'every connector'))
  );
  const messagesFigure = h('figure', { id: 'chart-messages', class: 'chart' });
  const ratioFigure = h('figure', { id: 'chart-ratio', class: 'chart' });
  const latencyFigure = h('figure', { id: 'chart-latency', class: 'chart' });
  const queueFigure = admin ? h('figure', { id: 'chart-queue', class: 'chart' }) : null;
  const summary = h('p', { id: 'chart-summary', class: 'muted', 'aria-live': 'polite' });
  const error = h('p', { class: 'error', role: 'alert' });
  const messages = chart(
    messagesFigure,
    'Messages per bucket',
    seriesMetrics.map((m) => ({ label: m, stroke: colours[m], width: 2 })),
    'messages',
  );
  const ratio = chart(
    ratioFigure,
    'Delivery ratio (delivered of delivered + failed)',
    [{ label: 'delivery ratio', stroke: colours.delivered, value: (_u, v) => percent(v), ...sparse }],
    'ratio',
    [0, 1],
  );
  const seconds = (_u, v) => (v === null || v === undefined ? '—' : `${v} s`);
  const latency = chart(
    latencyFigure,
    'Receipt latency (from submit to receipt)',
    [
      { label: 'median', stroke: colours.submitted, value: seconds, ...sparse },
      { label: '95th percentile', stroke: colours.failed, value: seconds, ...sparse },
    ],
    'seconds',
  );
  const queue = queueFigure
    ? chart(
        queueFigure,
        'Queue depth (most waiting in memory)',
        [{ label: 'queued', stroke: colours.accepted, width: 2 }],
        'messages',
      )
    : null;

  const load = async () => {
    const chosen = ranges[Number(range.value)] ?? ranges[0];
    const filters = admin ? { account: account.value, connector: connector.value } : {};
    try {
      const [data, latencies, queued] = await Promise.all([
        loadSeries(client, path, seriesMetrics, filters, chosen),
        loadSeries(client, path, ['receipt_latency_p50', 'receipt_latency_p95'], filters, chosen),
        queue ? loadSeries(client, path, ['queued'], {}, chosen) : null,
      ]);
      messages.set(data);
      ratio.set([data[0], deliveryRatio(data[3], data[4])]);
      latency.set(latencies);
      if (queued) queue?.set(queued);
      const totals = seriesMetrics.map((m, i) => [m, data[i + 1].reduce((n, x) => n + x, 0)]);
      for (const [m, n] of totals) messagesFigure.setAttribute(`data-${m}`, String(n));
      summary.replaceChildren(
        `${chosen.label}, per ${chosen.step / 60} min: `,
        totals.map(([m, n]) => `${n} ${m}`).join(' · '),
      );
      error.replaceChildren();
    } catch (err) {
      error.replaceChildren(`charts: ${errorText(err)}`);
    }
  };
  /** The accounts and connectors to filter by (admin). */
  const loadChoices = async () => {
    try {
      const [accounts, connectors] = await Promise.all([
        client.get('/v1/admin/accounts'),
        client.get('/v1/admin/connectors'),
      ]);
      account.append(...accounts.data.map((a) => h('option', { value: a.id }, a.id)));
      connector.append(...connectors.data.map((c) => h('option', { value: c.id }, c.id)));
    } catch (err) {
      error.replaceChildren(errorText(err));
    }
  };
  for (const select of [range, account, connector]) select.addEventListener('change', load);

  const element = h(
    'section',
    { class: 'panel wide', id: 'charts' },
    h('h2', null, admin ? 'Traffic' : 'Your traffic'),
    h(
      'div',
      { class: 'toolbar' },
      field('Range', range),
      admin ? [field('Account', account), field('Connector', connector)] : null,
    ),
    error,
    h('div', { class: 'charts' }, messagesFigure, ratioFigure, latencyFigure, queueFigure),
    summary,
  );
  if (admin) loadChoices();
  const stopTimer = every(refreshMs, load);
  return {
    element,
    stop() {
      stopTimer();
      for (const c of [messages, ratio, latency, queue]) c?.destroy();
    },
  };
}

function percent(v) {
  return v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)} %`;
}

/**
 * An account's traffic page (#/traffic): its own series.
 * @param {HTMLElement} root
 * @param {import('./api.js').Client} client
 */
export function trafficView(root, client) {
  const panel = chartsPanel(client, { path: '/v1/stats/series', admin: false });
  root.replaceChildren(panel.element);
  return panel.stop;
}

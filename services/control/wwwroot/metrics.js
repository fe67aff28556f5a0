// Metrics charts for a worker or a canvas (docs/API.md, "Metrics"), drawn with the vendored uPlot
// (vendor/uplot, loaded by index.html as the global uPlot). Kept apart from app.js, which only mounts it.

const RANGES = [
  { key: 'hour', label: 'Last hour', span: 3600, step: 60, refresh: 10_000 },
  { key: 'day', label: 'Last day', span: 86_400, step: 60, refresh: 60_000 },
  { key: 'week', label: 'Last week', span: 7 * 86_400, step: 3600, refresh: 300_000 },
];

const CHARTS = [
  {
    key: 'throughput', title: 'Throughput', unit: (step) => `events / ${step === 60 ? 'min' : 'hour'}`,
    series: [['processed', 'Processed', '#4338ca'], ['emitted', 'Emitted', '#0e9384']],
  },
  {
    key: 'failures', title: 'Failures', unit: (step) => `events / ${step === 60 ? 'min' : 'hour'}`,
    series: [['failed', 'Failed', '#b42318'], ['timedOut', 'Timed out', '#dc6803'], ['deadLettered', 'Dead-lettered', '#6941c6']],
  },
  {
    key: 'queueWait', title: 'Queue wait', unit: () => 'ms', log: true,
    series: [['queueWaitMs.p50', 'p50', '#12b76a'], ['queueWaitMs.p95', 'p95', '#f79009'], ['queueWaitMs.p99', 'p99', '#d92d20']],
  },
  {
    key: 'duration', title: 'Run duration', unit: () => 'ms', log: true,
    series: [['durationMs.p50', 'p50', '#12b76a'], ['durationMs.p95', 'p95', '#f79009'], ['durationMs.p99', 'p99', '#d92d20']],
  },
];

const pick = (point, path) => path.split('.').reduce((value, key) => value?.[key], point) ?? null;
const pad = (n) => String(n).padStart(2, '0');
const utcText = (date) => `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}`;
const localText = (date) => date.toLocaleString('sv-SE', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
const zoneName = () => Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'local';

/** The viewer's offset from UTC now, as UTC+01:00. */
function zoneOffset() {
  const minutes = -new Date().getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  return `UTC${sign}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
}

/** Axis ticks in 24-hour local time; past a day, with the date (alone at midnight). */
function timeTicks(ticks, step) {
  const days = ticks.length > 1 && ticks.at(-1) - ticks[0] > 86_400;
  return ticks.map((seconds) => {
    const date = new Date(seconds * 1000);
    const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
    const day = `${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
    if (!days && step !== 3600) return time;
    return time === '00:00' ? day : `${day} ${time}`;
  });
}

const plain = (value) => (value === null || value === undefined ? '—' : value.toLocaleString('en-US', { maximumFractionDigits: 3 }));

function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

/** The data uPlot draws: x in Unix seconds, then one array per series (null where a minute had no runs). */
function columns(chart, points) {
  return [points.map((p) => Date.parse(p.at) / 1000), ...chart.series.map(([path]) => points.map((p) => pick(p, path)))];
}

function options(chart, step, width) {
  return {
    width, height: 200,
    cursor: { points: { size: 6 } },
    legend: { live: true },
    scales: {
      x: { time: true },
      // Latencies span decades: a log scale; with nothing to show yet, 0.1 ms to 1 s.
      y: chart.log
        ? { distr: 3, log: 10, range: (u, min, max) => (Number.isFinite(min) && Number.isFinite(max) ? uPlot.rangeLog(min, max, 10, true) : [0.1, 1000]) }
        : { range: (u, min, max) => [0, Math.max(1, max ?? 0)] },
    },
    axes: [
      { label: `Time (${zoneName()}, ${zoneOffset()})`, labelSize: 20, size: 40, values: (u, ticks) => timeTicks(ticks, step) },
      { label: chart.unit(step), labelSize: 20, size: 60, values: (u, ticks) => ticks.map(plain) },
    ],
    series: [
      // Hovering shows the step's start in the viewer's zone and in UTC.
      { label: 'Time', value: (u, seconds) => (seconds === null ? '—' : `${localText(new Date(seconds * 1000))} (${utcText(new Date(seconds * 1000))} UTC)`) },
      ...chart.series.map(([, label, stroke]) => ({
        // A latency exists only in minutes with runs: dots, so a lone minute still shows.
        label, stroke, width: 2, spanGaps: false, points: chart.log ? { show: true, size: 5, fill: stroke } : { show: false },
        value: (u, v) => (v === null || v === undefined ? '—' : `${plain(v)} ${chart.unit(step)}`),
      })),
    ],
  };
}

/**
 * A card with a range picker and the charts; polls the metrics route while the view is shown.
 * Each chart's container keeps what it plots in data-plotted (JSON), so tests compare it with the API.
 */
export function metricsPanel(api, path, signal) {
  const status = element('span', { class: 'muted' });
  const buttons = RANGES.map((range) => element('button', { type: 'button', 'data-range': range.key, 'aria-pressed': 'false', onclick: () => show(range) }, range.label));
  const grid = element('div', { class: 'metrics-grid' });
  const panes = CHARTS.map((chart) => {
    const plot = element('div', { class: 'metrics-plot', 'data-chart': chart.key });
    const caption = element('figcaption', {}, chart.title);
    grid.append(element('figure', { class: 'metrics-chart' }, caption, plot));
    return { chart, plot, caption, uplot: null };
  });
  // The axes are drawn on a canvas: the captions and this note say the same in text.
  const zone = element('p', { class: 'muted metrics-zone' }, `Times in ${zoneName()} (${zoneOffset()}); hover a chart for its values and the time in UTC.`);
  const card = element('section', { class: 'card metrics', 'aria-label': 'Metrics' },
    element('div', { class: 'metrics-head' }, element('h2', {}, 'Metrics'), element('div', { class: 'actions', role: 'group', 'aria-label': 'Range' }, ...buttons), status),
    grid, zone);

  let current = RANGES[0];
  let timer;
  let generation = 0;

  const resize = new ResizeObserver(() => { for (const pane of panes) pane.uplot?.setSize({ width: pane.plot.clientWidth, height: 200 }); });
  resize.observe(grid);
  signal.addEventListener('abort', () => { clearTimeout(timer); resize.disconnect(); for (const pane of panes) pane.uplot?.destroy(); });

  async function load() {
    const mine = ++generation;
    clearTimeout(timer);
    const to = new Date();
    const from = new Date(to.getTime() - current.span * 1000);
    try {
      const answer = await api('GET', `${path}?from=${from.toISOString()}&to=${to.toISOString()}&step=${current.step}`, { signal });
      if (mine !== generation) return;
      draw(answer);
      status.textContent = `Every ${answer.step === 60 ? 'minute' : 'hour'}, updated ${localText(to)} (${utcText(to)} UTC)`;
    } catch (error) {
      if (error.name === 'AbortError') return;
      status.textContent = `Metrics unavailable: ${error.message}`;
    }
    if (!signal.aborted && mine === generation) timer = setTimeout(load, current.refresh);
  }

  function draw(answer) {
    for (const pane of panes) {
      const data = columns(pane.chart, answer.points);
      pane.plot.dataset.plotted = JSON.stringify({ step: answer.step, x: data[0], series: Object.fromEntries(pane.chart.series.map(([key], i) => [key, data[i + 1]])) });
      pane.caption.textContent = `${pane.chart.title} (${pane.chart.unit(answer.step)})`;
      if (pane.uplot && pane.uplot.step === answer.step) pane.uplot.setData(data);
      else {
        pane.uplot?.destroy();
        pane.uplot = new uPlot(options(pane.chart, answer.step, pane.plot.clientWidth || 500), data, pane.plot);
        pane.uplot.step = answer.step;
      }
    }
  }

  function show(range) {
    current = range;
    for (const button of buttons) button.setAttribute('aria-pressed', String(button.dataset.range === range.key));
    load();
  }

  show(current);
  return card;
}

/**
 * The dashboard page (runs in the browser; bundled by esbuild at server start). Reads only the aggregates
 * API of the server that served it; draws with uPlot (loaded before this script as the `uPlot` global).
 */
import type uPlotType from 'uplot';
import type { RollupInfo, SeriesResponse, TopResponse } from '../api.ts';
import type { PipelineHealth } from '../health.ts';
import {
  ALL_GROUPS as ALL,
  align,
  dimsLabel,
  eventsPerWindow,
  fmtInt,
  formatLag,
  formatValue,
  MAX_LINES,
  pointValue,
  shownSeries,
  valueLabel,
} from './model.ts';

type UPlot = uPlotType;
type UPlotCtor = typeof uPlotType;

const UPlotGlobal = (globalThis as unknown as { uPlot: UPlotCtor }).uPlot;

const PALETTE = ['#38bdf8', '#a78bfa', '#34d399', '#fbbf24', '#f472b6', '#fb923c', '#e2e8f0', '#f87171'];

interface State {
  rollups: RollupInfo[];
  rollup: string;
  window: string;
  value: string;
  group: string;
  range: string;
  live: boolean;
}

/** The page's two charts (uPlot handles; only this module draws on them). */
const charts: { value: UPlot | null; count: UPlot | null } = { value: null, count: null };

/** A chart as drawn: its data, series labels and width (a copy, not the uPlot handle). */
interface DrawnChart {
  data: (number | null | undefined)[][];
  series: { label?: string }[];
  width: number;
}

const drawn = (u: UPlot | null): DrawnChart | null =>
  u && {
    data: u.data.map((column) => [...column]),
    series: u.series.map((x) => ({ ...(typeof x.label === 'string' ? { label: x.label } : {}) })),
    width: u.width,
  };

/** What tests (and curious people in the console) can read: the charts as drawn, the refresh count. */
interface DebugHandle {
  readonly charts: { value: DrawnChart | null; count: DrawnChart | null };
  refreshes: number;
  lastSeries: SeriesResponse | null;
}

const debug: DebugHandle = {
  get charts() {
    return { value: drawn(charts.value), count: drawn(charts.count) };
  },
  refreshes: 0,
  lastSeries: null,
};
(globalThis as unknown as { __shardline: DebugHandle }).__shardline = debug;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
};

const params = new URLSearchParams(location.search);
const metaRefresh = Number(
  document.querySelector('meta[name="shardline-refresh-seconds"]')?.getAttribute('content'),
);
const refreshSeconds = Math.max(1, Number(params.get('refresh')) || metaRefresh || 5);

const state: State = {
  rollups: [],
  rollup: params.get('rollup') ?? '',
  window: params.get('window') ?? '',
  value: params.get('value') ?? '',
  group: params.get('group') ?? ALL,
  range: params.get('range') ?? '-1h',
  live: params.get('live') !== '0',
};

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { text?: string; className?: string; title?: string } = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.text !== undefined) node.textContent = props.text;
  if (props.className) node.className = props.className;
  if (props.title) node.title = props.title;
  for (const c of children) node.append(c);
  return node;
}

async function getJson<T>(path: string, query: Record<string, string> = {}): Promise<T> {
  const qs = new URLSearchParams(query).toString();
  const res = await fetch(qs ? `${path}?${qs}` : path, { headers: { accept: 'application/json' } });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${path}: HTTP ${res.status}`);
  return body;
}

function currentRollup(): RollupInfo {
  return state.rollups.find((r) => r.name === state.rollup) ?? state.rollups[0]!;
}

function fillSelect(select: HTMLSelectElement, options: { value: string; label: string }[], chosen: string) {
  select.replaceChildren(
    ...options.map((o) => {
      const opt = el('option', { text: o.label });
      opt.value = o.value;
      return opt;
    }),
  );
  select.value = options.some((o) => o.value === chosen) ? chosen : (options[0]?.value ?? '');
  return select.value;
}

/** Syncs the pickers with the state (and the state with what the pickers can offer). */
function syncPickers(groups: { key: string; dims: Record<string, string> }[] | null) {
  const r = currentRollup();
  state.rollup = fillSelect(
    $('rollup'),
    state.rollups.map((x) => ({ value: x.name, label: x.name })),
    r.name,
  );
  state.window = fillSelect(
    $('window'),
    r.windows.map((w) => ({ value: w, label: w })),
    state.window,
  );
  const defaultValue = r.values.find((v) => v.endsWith('.avg')) ?? 'count';
  state.value = fillSelect(
    $('value'),
    r.values.map((v) => ({ value: v, label: valueLabel(v) })),
    r.values.includes(state.value) ? state.value : defaultValue,
  );
  if (groups) {
    const label = r.dims.length ? `all (top ${MAX_LINES})` : 'all events';
    state.group = fillSelect(
      $('group'),
      [{ value: ALL, label }, ...groups.map((g) => ({ value: g.key, label: dimsLabel(g.dims) }))],
      state.group,
    );
  }
  ($('group') as HTMLSelectElement).disabled = r.dims.length === 0;
  ($('range') as HTMLSelectElement).value = state.range;
  const url = new URL(location.href);
  for (const k of ['rollup', 'window', 'value', 'group', 'range'] as const) url.searchParams.set(k, state[k]);
  history.replaceState(null, '', url);
}

function axisStyle(): uPlotType.Axis {
  return {
    stroke: '#8b9ab5',
    grid: { stroke: 'rgba(36,49,77,0.7)', width: 1 },
    ticks: { stroke: 'rgba(36,49,77,0.9)', width: 1 },
    font: '12px system-ui, sans-serif',
  };
}

function chartWidth(container: HTMLElement): number {
  return Math.max(260, container.clientWidth);
}

function drawChart(
  slot: 'value' | 'count',
  container: HTMLElement,
  labels: string[],
  data: uPlotType.AlignedData,
  height: number,
  opts: { bars?: boolean; yLabel: string; windowMs: number },
) {
  charts[slot]?.destroy();
  charts[slot] = null;
  if ((data[0] as number[]).length === 0) {
    container.replaceChildren(el('div', { className: 'empty', text: 'No aggregates in this range yet' }));
    return;
  }
  container.replaceChildren();
  const series: uPlotType.Series[] = [{ label: 'window' }];
  labels.forEach((label, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    series.push({
      label,
      stroke: color,
      width: 2,
      fill: opts.bars ? `${color}55` : undefined,
      points: { show: true, size: 5, fill: color },
      spanGaps: false,
      value: (_u, v) => formatValue(v),
      ...(opts.bars ? { paths: UPlotGlobal.paths.bars!({ size: [0.7, 40] }) } : {}),
    });
  });
  const chart = new UPlotGlobal(
    {
      width: chartWidth(container),
      height,
      series,
      scales: {
        x: {
          time: true,
          // half a window of room each side, so edge bars and single points show whole
          range: (_u, min, max) => [min - opts.windowMs / 2000, max + opts.windowMs / 2000],
        },
      },
      axes: [
        axisStyle(),
        { ...axisStyle(), size: 60, values: (_u, ticks) => ticks.map((t) => formatValue(t)) },
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    },
    data,
    container,
  );
  chart.root.setAttribute('aria-label', opts.yLabel);
  charts[slot] = chart;
}

async function refreshCharts() {
  const r = currentRollup();
  const res = await getJson<SeriesResponse>('/api/series', {
    rollup: state.rollup,
    window: state.window,
    from: state.range,
  });
  debug.lastSeries = res;
  syncPickers(res.series);
  const shown = shownSeries(res.series, state.group);
  const labels = shown.map((s) => dimsLabel(s.dims));
  $('value-title').textContent = `${valueLabel(state.value)} per ${res.window} window`;
  $('value-note').textContent =
    `${r.name}${r.dims.length ? ` by ${r.dims.join(', ')}` : ''} · ${res.series.length} group${res.series.length === 1 ? '' : 's'}` +
    (state.group === ALL && res.series.length > MAX_LINES ? ` · largest ${MAX_LINES} shown` : '');
  drawChart(
    'value',
    $('value-chart'),
    labels,
    align(shown, res.windowMs, (p) => pointValue(p, state.value)) as uPlotType.AlignedData,
    300,
    {
      yLabel: valueLabel(state.value),
      windowMs: res.windowMs,
    },
  );
  // Events per window, all shown groups together.
  const { data: counts, total } = eventsPerWindow(shown, res.windowMs);
  $('count-note').textContent =
    `${fmtInt.format(total)} events in range${state.group === ALL ? '' : ` · ${labels[0] ?? ''}`}`;
  drawChart('count', $('count-chart'), ['events'], counts as uPlotType.AlignedData, 180, {
    bars: true,
    yLabel: 'events per window',
    windowMs: res.windowMs,
  });
}

async function refreshTop() {
  const r = currentRollup();
  const res = await getJson<TopResponse>('/api/top', {
    rollup: state.rollup,
    window: state.window,
    by: state.value,
    n: '10',
  });
  $('top-title').textContent = r.dims.length ? `Top ${r.dims.join(', ')}` : 'Latest window';
  $('top-note').textContent = res.windowStart
    ? `${valueLabel(res.by)} · window ${new Date(res.windowStart).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })} · ${res.groups} groups`
    : 'no data yet';
  const max = Math.max(0, ...res.rows.map((x) => Math.abs(x.value ?? 0)));
  const body = ($('top') as HTMLTableElement).tBodies[0]!;
  body.replaceChildren(
    ...res.rows.map((row, i) => {
      const bar = el('td', { className: 'bar' }, [el('span', { text: dimsLabel(row.dims) })]);
      bar.style.setProperty('--w', `${max > 0 ? (Math.abs(row.value ?? 0) / max) * 100 : 0}%`);
      return el('tr', {}, [
        el('td', { text: String(i + 1) }),
        bar,
        el('td', { className: 'num', text: formatValue(row.value) }),
        el('td', { className: 'num', text: fmtInt.format(row.count) }),
      ]);
    }),
  );
  if (res.rows.length === 0) {
    body.replaceChildren(el('tr', {}, [el('td', { text: 'no aggregates yet' })]));
    body.rows[0]!.cells[0]!.colSpan = 4;
  }
}

function kpi(label: string, value: string, level: '' | 'warn' | 'bad' = '', title = '') {
  return el('div', { className: `kpi ${level}`, title }, [
    el('div', { className: 'label', text: label }),
    el('div', { className: 'value', text: value }),
  ]);
}

async function refreshHealth() {
  const h = await getJson<PipelineHealth>('/api/status');
  $('target').textContent = `${h.target === 'aws' ? 'AWS' : 'local cloud'} · stream ${h.stream}`;
  $('health-note').textContent =
    `${h.shards.length} shard${h.shards.length === 1 ? '' : 's'} · table ${h.table}`;
  const lag = h.totals.maxLagMs;
  const depth = h.onFailure.depth;
  $('kpis').replaceChildren(
    kpi('records/s', h.totals.recordsPerSecond === null ? '…' : formatValue(h.totals.recordsPerSecond)),
    kpi(
      'max lag',
      formatLag(lag),
      lag !== null && lag > 60_000 ? 'bad' : lag !== null && lag > 10_000 ? 'warn' : '',
    ),
    kpi('quarantined', fmtInt.format(h.quarantine.total), h.quarantine.total > 0 ? 'warn' : ''),
    kpi(
      'on-failure',
      depth === null ? '?' : fmtInt.format(depth),
      depth !== null && depth > 0 ? 'bad' : '',
      `${h.onFailure.source}: ${h.onFailure.detail}`,
    ),
  );
  const body = ($('shards') as HTMLTableElement).tBodies[0]!;
  body.replaceChildren(
    ...h.shards.map((s) =>
      el('tr', {}, [
        el('td', {
          text: s.shardId.replace(/^shardId-0*(?=\d)/, '') + (s.open ? '' : ' (closed)'),
          title: s.shardId,
        }),
        el('td', { className: 'num', text: fmtInt.format(s.records) }),
        el('td', {
          className: 'num',
          text: s.recordsPerSecond === null ? '…' : formatValue(s.recordsPerSecond),
        }),
        el('td', { className: 'num', text: formatLag(s.lagMs) }),
        el('td', { className: 'num', text: fmtInt.format(s.quarantined) }),
      ]),
    ),
  );
  const reasons = Object.entries(h.quarantine.reasons).sort((a, b) => b[1] - a[1]);
  $('reasons').replaceChildren(
    ...(reasons.length
      ? reasons.map(([k, v]) => el('li', { text: `${k}: ${fmtInt.format(v)}` }))
      : [el('li', { className: 'none', text: 'nothing quarantined' })]),
  );
}

let inFlight: Promise<void> | null = null;

function refresh(): Promise<void> {
  inFlight ??= (async () => {
    const results = await Promise.allSettled([refreshCharts(), refreshTop(), refreshHealth()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const error = $('error');
    error.hidden = !failed;
    error.textContent = failed ? String((failed.reason as Error)?.message ?? failed.reason) : '';
    $('live-dot').className = failed ? 'dot err' : state.live ? 'dot on' : 'dot';
    $('updated').textContent =
      `${state.live ? 'live' : 'paused'} · updated ${new Date().toLocaleTimeString()}`;
    debug.refreshes++;
    document.body.dataset.refreshes = String(debug.refreshes);
  })().finally(() => {
    inFlight = null;
  });
  return inFlight;
}

async function start() {
  try {
    const { rollups } = await getJson<{ rollups: RollupInfo[] }>('/api/rollups');
    state.rollups = rollups;
  } catch (err) {
    const error = $('error');
    error.hidden = false;
    error.textContent = `cannot reach the dashboard API: ${(err as Error).message}`;
    return;
  }
  syncPickers(null);
  const onPick = (key: 'rollup' | 'window' | 'value' | 'group' | 'range') => (ev: Event) => {
    state[key] = (ev.target as HTMLSelectElement).value;
    if (key === 'rollup') {
      state.group = ALL;
      state.value = '';
    }
    syncPickers(null);
    void refresh();
  };
  for (const key of ['rollup', 'window', 'value', 'group', 'range'] as const)
    $(key).addEventListener('change', onPick(key));
  const toggle = $('live-toggle') as HTMLButtonElement;
  const showLive = () => {
    toggle.textContent = state.live ? 'Pause' : 'Resume';
    toggle.setAttribute('aria-pressed', String(state.live));
  };
  showLive();
  toggle.addEventListener('click', () => {
    state.live = !state.live;
    showLive();
    void refresh();
  });
  setInterval(() => {
    if (state.live && document.visibilityState !== 'hidden') void refresh();
  }, refreshSeconds * 1000);
  let resizeTimer: ReturnType<typeof setTimeout> | undefined;
  new ResizeObserver(() => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const [slot, id] of [
        ['value', 'value-chart'],
        ['count', 'count-chart'],
      ] as const) {
        const chart = charts[slot];
        if (chart) chart.setSize({ width: chartWidth($(id)), height: chart.height });
      }
    }, 100);
  }).observe($('value-chart'));
  await refresh();
}

void start();

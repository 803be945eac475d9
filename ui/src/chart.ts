// Charts of query results with ECharts (only the parts we use are imported: bar, line,
// pie, scatter; grid, tooltip, legend; the canvas renderer). Tooltips render as rich text
// inside the canvas: ECharts' HTML tooltips carry style attributes the CSP would refuse.
import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart, ScatterChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, LegendComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { Column, View } from './api';

echarts.use([BarChart, LineChart, PieChart, ScatterChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

export type ChartMode = Exclude<View['mode'], 'table'>;

const NUMERIC = /^(smallint|int|integer|bigint|int[248]|real|double|float|numeric|decimal|hugeint|tinyint|ubigint|uinteger)/i;
export const isNumeric = (c: Column) => NUMERIC.test(c.type);
export const isTime = (c: Column) => /^(timestamp|date)/i.test(c.type);

// Timestamps arrive as text ("2024-05-01 12:00:00", maybe with a zone): epoch ms, or NaN.
export function timeValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return NaN;
  let s = v.trim().replace(' ', 'T');
  if (/^\d{4}-\d\d-\d\d$/.test(s)) s += 'T00:00:00';
  if (/[+-]\d\d$/.test(s)) s += ':00';
  if (!/(Z|[+-]\d\d:\d\d)$/.test(s)) s += 'Z';
  return Date.parse(s);
}

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

// The view with defaults filled in from the columns: x = first column, y = the first
// numeric column other than x.
export function resolveView(view: View, columns: Column[]): Required<View> {
  const names = columns.map((c) => c.name);
  const x = view.x && names.includes(view.x) ? view.x : (columns.find((c) => isTime(c)) ?? columns[0])?.name ?? null;
  let y = (view.y ?? []).filter((n) => names.includes(n) && n !== x);
  if (!y.length) {
    const n = columns.find((c) => c.name !== x && isNumeric(c) && c.name !== view.series);
    if (n) y = [n.name];
  }
  const series = view.series && names.includes(view.series) && view.series !== x ? view.series : null;
  return { mode: view.mode, x, y, series, stacked: !!view.stacked };
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// Builds the ECharts option; also returns how many data points it draws.
export function buildOption(mode: ChartMode, v: Required<View>, columns: Column[], rows: unknown[][], animate: boolean, compact = false): { option: echarts.EChartsCoreOption; points: number } {
  const fg = cssVar('--fg-muted'), grid = cssVar('--border'), palette = cssVar('--chart-palette').split(',').map((s) => s.trim()).filter(Boolean);
  const idx = (n: string | null) => (n === null ? -1 : columns.findIndex((c) => c.name === n));
  const xi = idx(v.x), si = idx(v.series);
  const xCol = columns[xi];
  const timeX = !!xCol && isTime(xCol);
  const numericX = !!xCol && isNumeric(xCol);
  const base = {
    animation: animate, color: palette.length ? palette : undefined, backgroundColor: 'transparent',
    textStyle: { color: fg, fontFamily: cssVar('--sans') },
    tooltip: { trigger: mode === 'pie' || mode === 'scatter' ? 'item' : 'axis', renderMode: 'richText', confine: true },
    legend: { type: 'scroll', top: 0, textStyle: { color: fg }, show: true },
  };
  let points = 0;
  if (mode === 'pie') {
    const yi = idx(v.y[0] ?? null);
    const sums = new Map<string, number>();
    for (const r of rows) {
      const k = r[xi] === null ? 'NULL' : String(r[xi]);
      sums.set(k, (sums.get(k) ?? 0) + (num(r[yi]) ?? 0));
    }
    const data = [...sums].map(([name, value]) => ({ name, value }));
    points = data.length;
    return { option: { ...base, legend: { ...base.legend, show: data.length <= 12 }, series: [{ type: 'pie', radius: ['35%', '68%'], center: ['50%', '56%'], data, label: { color: fg }, itemStyle: { borderColor: cssVar('--surface'), borderWidth: 2 } }] }, points };
  }
  // One series per (series value × y column); points keyed by x.
  const groups = new Map<string, Map<string, [unknown, number | null][]>>();
  const categories: string[] = [];
  const seenCat = new Set<string>();
  for (const r of rows) {
    const sKey = si >= 0 ? (r[si] === null ? 'NULL' : String(r[si])) : '';
    let g = groups.get(sKey);
    if (!g) { g = new Map(); groups.set(sKey, g); }
    const xv = r[xi];
    let xKey: unknown;
    if (timeX) xKey = timeValue(xv);
    else if (numericX && mode !== 'bar') xKey = num(xv);
    else {
      xKey = xv === null ? 'NULL' : String(xv);
      if (!seenCat.has(xKey as string)) { seenCat.add(xKey as string); categories.push(xKey as string); }
    }
    for (const y of v.y) {
      const yi = idx(y);
      const name = si >= 0 ? (v.y.length > 1 ? `${sKey} · ${y}` : sKey) : y;
      let list = g.get(name);
      if (!list) { list = []; g.set(name, list); }
      list.push([xKey, num(r[yi])]);
    }
  }
  const series: object[] = [];
  const type = mode === 'area' ? 'line' : mode;
  for (const g of groups.values()) {
    for (const [name, data] of g) {
      if (timeX || (numericX && mode !== 'bar')) data.sort((a, b) => (a[0] as number) - (b[0] as number));
      points += data.length;
      series.push({
        name, type, data,
        stack: v.stacked && mode !== 'scatter' ? 'total' : undefined,
        areaStyle: mode === 'area' ? { opacity: 0.35 } : undefined,
        showSymbol: mode === 'scatter' || (!compact && data.length <= 60),
        symbolSize: mode === 'scatter' ? 8 : 5,
        emphasis: { focus: 'series' },
        barMaxWidth: 48,
      });
    }
  }
  const axis = { axisLine: { lineStyle: { color: grid } }, axisLabel: { color: fg, hideOverlap: true }, splitLine: { lineStyle: { color: grid, opacity: 0.6 } } };
  const xAxis = timeX ? { type: 'time', ...axis, splitLine: { show: false } }
    : (numericX && mode !== 'bar') ? { type: 'value', scale: true, ...axis, splitLine: { show: false } }
    : { type: 'category', data: categories, ...axis, splitLine: { show: false } };
  return {
    option: {
      ...base,
      legend: { ...base.legend, show: series.length > 1 && series.length <= 30 },
      grid: { left: 8, right: 16, top: series.length > 1 ? 36 : 16, bottom: 8, containLabel: true },
      xAxis, yAxis: { type: 'value', scale: mode === 'scatter', ...axis },
      series,
    },
    points,
  };
}

// A chart bound to one element; update() swaps its data in place (no re-creation, so no
// flicker while live results arrive).
export class Chart {
  private chart: echarts.ECharts;
  private resize = new ResizeObserver(() => this.chart.resize());
  constructor(readonly el: HTMLElement) {
    this.chart = echarts.init(el, null, { renderer: 'canvas' });
    this.resize.observe(el);
  }
  // compact: small charts (health page) draw lines without point symbols.
  update(mode: ChartMode, view: Required<View>, columns: Column[], rows: unknown[][], live: boolean, compact = false): number {
    const { option, points } = buildOption(mode, view, columns, rows, !live, compact);
    this.chart.setOption(option, live ? { replaceMerge: ["series"] } : { notMerge: true });
    this.el.dataset.points = String(points);
    this.el.dataset.series = String(((option as { series: object[] }).series ?? []).length);
    return points;
  }
  dispose(): void {
    this.resize.disconnect();
    this.chart.dispose();
  }
}

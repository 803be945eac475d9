// A paragraph's result: a sortable, paged table (NULL shown as NULL, copy as CSV) or a chart
// with its axis/series controls. The view settings belong to the paragraph (saved with it).
import { h, clear, toast } from './dom';
import type { Column, View } from './api';
import { Chart, resolveView, isNumeric, type ChartMode } from './chart';

const PAGE = 50;
const MODES: { mode: View['mode']; label: string }[] = [
  { mode: 'table', label: 'Table' }, { mode: 'bar', label: 'Bar' }, { mode: 'line', label: 'Line' },
  { mode: 'area', label: 'Area' }, { mode: 'pie', label: 'Pie' }, { mode: 'scatter', label: 'Scatter' },
];

export interface ResultData { columns: Column[]; rows: unknown[][]; truncated?: boolean }

function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;   // NULLs last
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const na = Number(a), nb = Number(b);
  if (typeof a === 'string' && typeof b === 'string' && a.trim() !== '' && b.trim() !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return String(a) < String(b) ? -1 : 1;
}

export function toCsv(columns: Column[], rows: unknown[][]): string {
  const q = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [columns.map((c) => q(c.name)).join(',')];
  for (const r of rows) lines.push(r.map((v) => (v === null || v === undefined ? '' : q(cellText(v)))).join(','));
  return lines.join('\r\n') + '\r\n';
}

async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = h('textarea', { 'aria-hidden': 'true', class: 'offscreen' });
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
}

export class ResultView {
  readonly el = h('div.result');
  private toolbar = h('div.result-toolbar');
  private body = h('div.result-body');
  private data: ResultData | null = null;
  private sortCol = -1;
  private sortDesc = false;
  private page = 0;
  private chart: Chart | null = null;
  private chartEl: HTMLElement | null = null;
  private live = false;

  constructor(private view: View, private onViewChange: (v: View) => void) {
    this.el.append(this.toolbar, this.body);
  }

  get viewSettings(): View { return this.view; }

  setLive(live: boolean): void {
    this.live = live;
    this.el.classList.toggle('live', live);
  }

  clear(): void {
    this.data = null;
    this.disposeChart();
    clear(this.toolbar);
    clear(this.body);
    this.el.hidden = true;
  }

  // Shows new data; a live update keeps sort, page and chart instance.
  show(data: ResultData, update = false): void {
    const sameShape = update && this.data && this.data.columns.map((c) => c.name).join('\0') === data.columns.map((c) => c.name).join('\0');
    this.data = data;
    this.el.hidden = false;
    if (!sameShape) {
      this.sortCol = -1;
      this.page = 0;
      this.renderToolbar();
      this.renderBody();
    } else {
      this.renderBody(true);
    }
  }

  rerender(): void {
    if (!this.data) return;
    this.disposeChart();
    this.renderToolbar();
    this.renderBody();
  }

  destroy(): void { this.disposeChart(); }

  private setView(v: View): void {
    this.view = v;
    this.onViewChange(v);
  }

  private renderToolbar(): void {
    clear(this.toolbar);
    if (!this.data || !this.data.columns.length) return;
    const cols = this.data.columns;
    const tabs = h('div.segmented', { role: 'tablist', 'aria-label': 'Result view' },
      MODES.map(({ mode, label }) => h('button', {
        type: 'button', role: 'tab', 'aria-selected': String(this.view.mode === mode), 'data-mode': mode,
        onclick: () => {
          if (this.view.mode === mode) return;
          this.setView({ ...this.view, mode });
          this.disposeChart();
          this.renderToolbar();
          this.renderBody();
        },
      }, label)));
    this.toolbar.append(tabs);
    if (this.view.mode === 'table') {
      this.toolbar.append(h('span.spacer'),
        h('button.ghost', { type: 'button', title: 'Copy the whole result as CSV', onclick: async () => {
          if (!this.data) return;
          await copyText(toCsv(this.data.columns, this.sorted()));
          toast(`Copied ${this.data.rows.length} rows as CSV`);
        } }, 'Copy CSV'));
      return;
    }
    const r = resolveView(this.view, cols);
    const opt = (name: string, selected: boolean) => h('option', { value: name, selected }, name);
    const xSel = h('select', { 'aria-label': 'X axis', 'data-role': 'x', onchange: () => {
      this.setView({ ...this.view, x: xSel.value });
      this.renderToolbar();
      this.renderBody();
    } }, cols.map((c) => opt(c.name, c.name === r.x)));
    // Y: one column for a pie (a select), any number otherwise (a menu of checkboxes).
    let yControl: HTMLElement;
    if (this.view.mode === 'pie') {
      const ySel = h('select', { 'aria-label': 'Value column', 'data-role': 'y', onchange: () => {
        this.setView({ ...this.view, y: [ySel.value] });
        this.renderBody();
      } }, cols.filter((c) => c.name !== r.x).map((c) => opt(c.name, r.y.includes(c.name))));
      yControl = ySel;
    } else {
      const summary = h('summary', { 'aria-label': 'Y columns' }, r.y.join(', ') || '(none)');
      const boxes = cols.filter((c) => c.name !== r.x).map((c) => h('input', { type: 'checkbox', value: c.name, checked: r.y.includes(c.name) }));
      const menu = h('details.multi', { 'data-role': 'y' }, summary,
        h('div.menu', { role: 'group', 'aria-label': 'Y columns' }, boxes.map((b) => h('label.check', null, b, h('span', null, b.value)))));
      menu.addEventListener('change', () => {
        const y = boxes.filter((b) => b.checked).map((b) => b.value);
        summary.textContent = y.join(', ') || '(none)';
        this.setView({ ...this.view, y });
        this.renderBody();
      });
      // Closes on a click elsewhere or Escape.
      const outside = (e: Event) => { if (!menu.contains(e.target as Node)) menu.open = false; };
      menu.addEventListener('toggle', () => {
        if (menu.open) document.addEventListener('click', outside);
        else document.removeEventListener('click', outside);
      });
      menu.addEventListener('keydown', (e) => { if (e.key === 'Escape') { menu.open = false; summary.focus(); } });
      yControl = menu;
    }
    const sSel = h('select', { 'aria-label': 'Series', 'data-role': 'series', onchange: () => {
      this.setView({ ...this.view, series: sSel.value || null });
      this.renderBody();
    } }, h('option', { value: '' }, '(none)'), cols.filter((c) => c.name !== r.x && !isNumeric(c) || c.name === r.series).map((c) => opt(c.name, c.name === r.series)));
    const label = (text: string, control: HTMLElement) => h('label.field', null, h('span', null, text), control);
    this.toolbar.append(label('X', xSel), label(this.view.mode === 'pie' ? 'Value' : 'Y', yControl));
    if (this.view.mode !== 'pie') {
      this.toolbar.append(label('Series', sSel));
      if (this.view.mode !== 'scatter') {
        const stacked = h('input', { type: 'checkbox', checked: !!this.view.stacked, onchange: () => {
          this.setView({ ...this.view, stacked: stacked.checked });
          this.renderBody();
        } });
        this.toolbar.append(h('label.check', null, stacked, h('span', null, 'Stacked')));
      }
    }
  }

  private sorted(): unknown[][] {
    const rows = this.data?.rows ?? [];
    if (this.sortCol < 0) return rows;
    const i = this.sortCol, dir = this.sortDesc ? -1 : 1;
    return [...rows].sort((a, b) => {
      const c = compare(a[i], b[i]);
      return a[i] === null || b[i] === null ? c : c * dir;
    });
  }

  private disposeChart(): void {
    this.chart?.dispose();
    this.chart = null;
    this.chartEl = null;
  }

  private renderBody(update = false): void {
    if (!this.data) return;
    const { columns, rows } = this.data;
    if (!columns.length) {
      clear(this.body);
      return;
    }
    if (this.view.mode === 'table') this.renderTable(update);
    else {
      if (!this.chart || !this.chartEl?.isConnected) {
        clear(this.body);
        this.chartEl = h('div.chart', { role: 'img', 'aria-label': `${this.view.mode} chart` });
        this.body.append(this.chartEl);
        this.chart = new Chart(this.chartEl);
      }
      this.chart.update(this.view.mode as ChartMode, resolveView(this.view, columns), columns, rows, this.live || update);
    }
  }

  private renderTable(keepScroll: boolean): void {
    const data = this.data!;
    const scroller = this.body.querySelector('.table-scroll');
    const scrollLeft = keepScroll && scroller ? scroller.scrollLeft : 0;
    const scrollTop = keepScroll && scroller ? scroller.scrollTop : 0;
    const rows = this.sorted();
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    this.page = Math.min(this.page, pages - 1);
    const slice = rows.slice(this.page * PAGE, this.page * PAGE + PAGE);
    const thead = h('thead', null, h('tr', null, data.columns.map((c, i) => {
      const sorted = this.sortCol === i;
      return h('th', { 'aria-sort': sorted ? (this.sortDesc ? 'descending' : 'ascending') : 'none', class: isNumeric(c) ? 'num' : null },
        h('button.sort', { type: 'button', title: `Sort by ${c.name}`, onclick: () => {
          if (this.sortCol === i) this.sortDesc = !this.sortDesc;
          else { this.sortCol = i; this.sortDesc = false; }
          this.page = 0;
          this.renderTable(true);
        } }, h('span.col-name', null, c.name), h('span.col-type', null, c.type), h('span.sort-mark', { 'aria-hidden': 'true' }, sorted ? (this.sortDesc ? '▼' : '▲') : '')));
    })));
    const numeric = data.columns.map(isNumeric);
    const tbody = h('tbody', null, slice.map((r) => h('tr', null, r.map((v, i) =>
      v === null || v === undefined ? h('td', null, h('span.null', null, 'NULL')) : h('td', { class: numeric[i] ? 'num' : null }, cellText(v))))));
    const table = h('table.grid', null, thead, tbody);
    const first = rows.length ? this.page * PAGE + 1 : 0;
    const last = Math.min(rows.length, (this.page + 1) * PAGE);
    const pager = h('div.pager', null,
      h('span.count', null, `${first.toLocaleString('en-US')}–${last.toLocaleString('en-US')} of ${rows.length.toLocaleString('en-US')} rows${data.truncated ? ' (truncated)' : ''}`),
      h('span.spacer'),
      h('button.ghost', { type: 'button', 'aria-label': 'Previous page', disabled: this.page === 0, onclick: () => { this.page--; this.renderTable(true); } }, '‹ Prev'),
      h('span.page', null, `${this.page + 1} / ${pages}`),
      h('button.ghost', { type: 'button', 'aria-label': 'Next page', disabled: this.page >= pages - 1, onclick: () => { this.page++; this.renderTable(true); } }, 'Next ›'));
    const wrap = h('div.table-scroll', null, table);
    clear(this.body);
    this.body.append(wrap, pager);
    wrap.scrollLeft = scrollLeft;
    wrap.scrollTop = scrollTop;
  }
}

// Health: streams, pipelines and sinks from GET /v1/status every 2 s, with small charts of
// the last minutes. A pipeline's error count opens its errors table in a query panel.
import { h, clear, fmtBytes, fmtDuration, fmtNumber, fmtAgo } from './dom';
import { status, type StatusDoc } from './api';
import { Chart } from './chart';
import { scratchParagraph } from './notebook';
import type { ParagraphView } from './paragraph';

const REFRESH_MS = 2000;

export class HealthPage {
  readonly el = h('div.page.health');
  private charts = h('div.spark-row');
  private streams = h('div.card');
  private pipelines = h('div.card');
  private sinks = h('div.card');
  private errorPanel = h('div.error-panel');
  private updated = h('span.muted.updated');
  private timer = 0;
  private recChart: Chart;
  private rowChart: Chart;
  private scratch: ParagraphView | null = null;

  constructor() {
    const recEl = h('div.spark'), rowEl = h('div.spark');
    this.charts.append(
      h('div.card', null, h('h3', null, 'Records in / s'), recEl),
      h('div.card', null, h('h3', null, 'Rows processed / s'), rowEl));
    this.el.append(h('div.page-head', null, h('h1', null, 'Health'), h('span.spacer'), this.updated),
      this.charts, this.errorPanel, this.streams, this.pipelines, this.sinks);
    this.recChart = new Chart(recEl);
    this.rowChart = new Chart(rowEl);
    void this.refresh();
    this.timer = window.setInterval(() => void this.refresh(), REFRESH_MS);
  }

  private async refresh(): Promise<void> {
    let s: StatusDoc;
    try {
      s = await status();
    } catch (e) {
      this.updated.textContent = `Status unavailable: ${e instanceof Error ? e.message : e}`;
      return;
    }
    this.updated.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')} · every 2 s`;
    this.render(s);
  }

  rerender(): void { void this.refresh(); }

  private render(s: StatusDoc): void {
    const t = s.history?.t ?? [];
    const cols = (y: string) => [{ name: 'time', type: 'timestamp' }, { name: y, type: 'double' }];
    const series = (vals: number[]) => t.map((ms, i) => [ms, vals[i] ?? 0]);
    this.recChart.update('area', { mode: 'area', x: 'time', y: ['records/s'], series: null, stacked: false }, cols('records/s'), series(s.history?.records_per_s ?? []), true, true);
    this.rowChart.update('area', { mode: 'area', x: 'time', y: ['rows/s'], series: null, stacked: false }, cols('rows/s'), series(s.history?.rows_per_s ?? []), true, true);

    const table = (head: string[], rows: (string | Node)[][], numericFrom = 1) => h('div.table-scroll', null, h('table.grid.compact', null,
      h('thead', null, h('tr', null, head.map((c, i) => h('th', { class: i >= numericFrom ? 'num' : null }, c)))),
      h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => h('td', { class: i >= numericFrom ? 'num' : null }, c)))))));
    const section = (el: HTMLElement, title: string, count: number, content: HTMLElement | null, empty: string) => {
      clear(el);
      el.append(h('h2', null, title, h('span.count', null, String(count))), content ?? h('p.hint', null, empty));
    };

    section(this.streams, 'Streams', s.streams.length, s.streams.length ? table(
      ['Stream', 'Status', 'Shards', 'Records/s', 'Bytes/s', 'Records in', 'Bytes in', 'Retention', 'Iterator age'],
      s.streams.map((x) => [x.name, h('span.pill', { 'data-status': x.status }, x.status), fmtNumber(x.shards), fmtNumber(x.records_per_s, 1), fmtBytes(x.bytes_per_s) + '/s',
        fmtNumber(x.records_in), fmtBytes(x.bytes_in), `${fmtNumber(x.retention_hours)} h`, fmtDuration(x.millis_behind_latest ?? 0)]), 2) : null,
      'No streams. Create one with the Kinesis API or `streamlake produce`.');

    section(this.pipelines, 'Pipelines', s.pipelines.length, s.pipelines.length ? table(
      ['Table / view', 'Kind', 'Rows in', 'Rows out', 'Watermark', 'Lag', 'Checkpoint', 'Took', 'State', 'Errors'],
      s.pipelines.map((x) => [x.name, x.kind, fmtNumber(x.rows_in), fmtNumber(x.rows_out),
        x.watermark === null || x.watermark === undefined ? '–' : typeof x.watermark === 'number' ? new Date(x.watermark).toISOString().replace('T', ' ').slice(0, 19) : String(x.watermark),
        fmtDuration(x.lag_ms ?? 0), fmtAgo(x.last_checkpoint_ms), x.checkpoint_duration_ms ? fmtDuration(x.checkpoint_duration_ms) : '–', fmtBytes(x.state_bytes),
        x.errors_table ? h('button.link', { type: 'button', class: x.errors ? 'has-errors' : null, 'data-errors-table': x.errors_table, title: `SELECT * FROM ${x.errors_table}`, onclick: () => this.openErrors(x.errors_table!) }, fmtNumber(x.errors)) : fmtNumber(x.errors)]), 2) : null,
      'No stream tables or views yet.');

    section(this.sinks, 'Lake sinks', s.sinks.length, s.sinks.length ? table(
      ['Sink', 'Files', 'Bytes', 'Rows', 'Last commit'],
      s.sinks.map((x) => [x.name, fmtNumber(x.files), fmtBytes(x.bytes), fmtNumber(x.rows), fmtAgo(x.last_commit_ms)])) : null,
      'No lake sinks.');
  }

  private openErrors(tableName: string): void {
    this.scratch?.destroy();
    clear(this.errorPanel);
    const ident = /^[a-z_][a-z0-9_$]*$/.test(tableName) ? tableName : `"${tableName.replace(/"/g, '""')}"`;
    this.scratch = scratchParagraph(`SELECT * FROM ${ident} ORDER BY arrival DESC LIMIT 1000`);
    this.errorPanel.append(h('div.card', null,
      h('div.panel-head', null, h('h2', null, `Errors: ${tableName}`), h('span.spacer'),
        h('button.icon', { type: 'button', 'aria-label': 'Close', onclick: () => { this.scratch?.destroy(); this.scratch = null; clear(this.errorPanel); } }, '✕')),
      this.scratch.el));
    void this.scratch.run();
  }

  destroy(): void {
    window.clearInterval(this.timer);
    this.scratch?.destroy();
    this.recChart.dispose();
    this.rowChart.dispose();
  }
}

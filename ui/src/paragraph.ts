// One notebook paragraph: SQL (editor, run/cancel with progress, errors pointing into the
// editor, results, follow live) or Markdown (rendered unless editing), or an unsupported
// imported paragraph (text kept, shown read-only).
import { Marked } from 'marked';
import DOMPurify from 'dompurify';
import { h, clear, fmtDuration, fmtTime } from './dom';
import { ApiError, catalog, live, runSql, type Paragraph, type RunningQuery, type View, type LiveResult } from './api';
import { Editor } from './editor';
import { ResultView } from './result';

export interface ParagraphHost {
  changed(): void;                       // the paragraph's saved fields changed
  move(p: ParagraphView, delta: -1 | 1): void;
  remove(p: ParagraphView): void;
  insertAfter(p: ParagraphView, type: 'sql' | 'markdown'): void;
  runAll(): void;
  catalogChanged(): void;
  readonly scratch?: boolean;            // not part of a saved notebook (health page)
}

// Markdown → DOM. Raw HTML in the source is shown as text: parsing it, even in DOMPurify's
// inert document, makes Chromium report its inline handlers as CSP violations. DOMPurify
// then checks what Markdown itself produced (javascript: links and the like).
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const markdown = new Marked({ gfm: true, async: false, renderer: { html: ({ text }) => escapeHtml(text) } });

export function renderMarkdown(src: string): DocumentFragment {
  const html = markdown.parse(src) as string;
  return DOMPurify.sanitize(html, { RETURN_DOM_FRAGMENT: true, FORBID_ATTR: ['style'], FORBID_TAGS: ['style'] });
}

const DDL = /^\s*(create|drop|alter)\b/i;

export class ParagraphView {
  readonly el: HTMLElement;
  private editor: Editor | null = null;
  private editorHost = h('div.editor');
  private mdView = h('div.markdown', { tabindex: '0', title: 'Double-click or press Enter to edit' });
  private status = h('div.status', { 'aria-live': 'polite' });
  private errorBox = h('div.error-box', { role: 'alert', hidden: true });
  private result: ResultView;
  private running: RunningQuery | null = null;
  private timer = 0;
  private editing = false;
  private liveBtn: HTMLButtonElement | null = null;
  private liveTimer = 0;
  private lastLive: { at: number; lag: number; epoch: number } | null = null;

  constructor(readonly p: Paragraph, private host: ParagraphHost) {
    this.result = new ResultView(p.view ?? { mode: 'table' }, (v: View) => { this.p.view = v; this.host.changed(); });
    this.result.clear();
    this.el = h('section.paragraph', { 'data-type': p.type, 'data-id': p.id });
    this.build();
    if (p.type === 'sql' && p.live) queueMicrotask(() => this.setLive(true));
  }

  get id(): string { return this.p.id; }

  private build(): void {
    const p = this.p;
    const actions = h('div.actions', null,
      p.type === 'sql' ? h('button.icon', { type: 'button', title: 'Run (Shift-Enter)', 'aria-label': 'Run paragraph', 'data-action': 'run', onclick: () => { void this.run(); } }, '▶') : null,
      p.type === 'sql' ? (this.liveBtn = h('button.toggle', { type: 'button', 'aria-pressed': 'false', title: 'Follow: re-run whenever the stream advances', 'data-action': 'live', onclick: () => { void this.setLive(!this.p.live); } }, h('span.dot'), 'Follow')) : null,
      p.type === 'markdown' ? h('button.ghost', { type: 'button', 'data-action': 'edit', onclick: () => this.setEditing(!this.editing) }, 'Edit') : null,
      this.host.scratch ? null : [
        h('button.icon', { type: 'button', title: 'Add a SQL paragraph below', 'aria-label': 'Add a SQL paragraph below', 'data-action': 'add-below', onclick: () => this.host.insertAfter(this, 'sql') }, '+'),
        h('button.icon', { type: 'button', title: 'Move up (Ctrl-Shift-↑)', 'aria-label': 'Move up', onclick: () => this.host.move(this, -1) }, '↑'),
        h('button.icon', { type: 'button', title: 'Move down (Ctrl-Shift-↓)', 'aria-label': 'Move down', onclick: () => this.host.move(this, 1) }, '↓'),
        h('button.icon', { type: 'button', title: 'Delete paragraph', 'aria-label': 'Delete paragraph', 'data-action': 'delete', onclick: () => this.host.remove(this) }, '✕'),
      ]);
    const kind = p.type === 'sql' ? 'SQL' : p.type === 'markdown' ? 'Markdown' : `Unsupported ${p.unsupported ?? ''}`.trim();
    const head = h('header.paragraph-head', null, h('span.badge', { 'data-kind': p.type }, kind), h('span.spacer'), actions);
    this.el.append(head);
    if (p.type === 'text') {
      this.el.append(h('pre.unsupported', null, p.text),
        h('p.hint', null, `${p.unsupported ?? 'This interpreter'} paragraphs don't run here; the text is kept.`));
      return;
    }
    this.el.append(this.editorHost);
    if (p.type === 'markdown') {
      this.mdView.addEventListener('dblclick', () => this.setEditing(true));
      this.mdView.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); this.setEditing(true); } });
      this.el.append(this.mdView);
      this.setEditing(p.text.trim() === '');
    } else {
      this.makeEditor();
      this.el.append(this.status, this.errorBox, this.result.el);
    }
  }

  private makeEditor(): void {
    this.editor = new Editor(this.editorHost, {
      kind: this.p.type === 'sql' ? 'sql' : 'markdown',
      doc: this.p.text,
      placeholder: this.p.type === 'sql' ? 'SELECT …   (Shift-Enter runs)' : 'Markdown text   (Shift-Enter renders)',
      onChange: (text) => { this.p.text = text; this.host.changed(); },
      onRun: () => { if (this.p.type === 'sql') void this.run(); else this.setEditing(false); },
      onRunAll: () => this.host.runAll(),
      onEscape: this.p.type === 'markdown' ? () => this.setEditing(false) : undefined,
      onMove: this.host.scratch ? undefined : (d) => { this.host.move(this, d); this.focus(); },
    });
    catalog().then((rels) => this.editor?.setCatalog(rels)).catch(() => {});
  }

  refreshCatalog(): void {
    if (this.p.type === 'sql') catalog().then((rels) => this.editor?.setCatalog(rels)).catch(() => {});
  }

  private setEditing(on: boolean): void {
    this.editing = on;
    this.el.classList.toggle('editing', on);
    if (on) {
      if (!this.editor) this.makeEditor();
      this.editorHost.hidden = false;
      this.mdView.hidden = true;
      this.editor!.focus();
    } else {
      this.editorHost.hidden = true;
      clear(this.mdView);
      this.mdView.append(this.p.text.trim() ? renderMarkdown(this.p.text) : h('p.hint', null, 'Empty text — double-click to edit'));
      this.mdView.hidden = false;
    }
  }

  focus(): void {
    if (this.editor && !this.editorHost.hidden) this.editor.focus();
    else this.mdView.focus();
  }

  // Renders markdown or runs the SQL; resolves false on error.
  async run(): Promise<boolean> {
    if (this.p.type === 'markdown') { this.setEditing(false); return true; }
    if (this.p.type !== 'sql') return true;
    if (this.running) return false;
    if (this.p.live) {
      // Running a followed paragraph (Shift-Enter, Run all) re-subscribes with its current
      // text: the first result comes at once and it keeps following.
      await live.unsubscribe(this.p.id);
      await this.setLive(true);
      return !this.el.querySelector('[data-state=error]');
    }
    const sql = this.p.text;
    this.editor?.markError(-1);
    this.errorBox.hidden = true;
    const started = performance.now();
    let rowsSoFar = 0;
    this.el.classList.add('running');
    const cancel = h('button.ghost.danger', { type: 'button', 'data-action': 'cancel', onclick: () => {
      cancel.disabled = true;
      cancel.textContent = 'Cancelling…';
      void this.running?.cancel();
    } }, 'Cancel');
    const elapsed = h('span.elapsed', null, '0 ms');
    const rowsEl = h('span.rows', null, '');
    clear(this.status);
    this.status.append(h('span.spinner', { 'aria-hidden': 'true' }), h('span', null, 'Running'), elapsed, rowsEl, h('span.spacer'), cancel);
    const tick = () => {
      elapsed.textContent = fmtDuration(performance.now() - started);
      rowsEl.textContent = rowsSoFar ? `${rowsSoFar.toLocaleString('en-US')} rows so far` : '';
    };
    this.timer = window.setInterval(tick, 100);
    this.running = runSql(sql, (rows) => { rowsSoFar = rows; });
    try {
      const res = await this.running.result;
      const ms = performance.now() - started;
      clear(this.status);
      const n = res.rows.length;
      const what = !res.columns.length ? (res.command ?? 'OK')
        : res.truncated ? `first ${n.toLocaleString('en-US')} rows — the query was stopped there`
        : `${n.toLocaleString('en-US')} row${n === 1 ? '' : 's'}`;
      this.status.append(h('span.ok', { 'data-state': 'done' }, what), h('span.muted', null, fmtDuration(ms)));
      if (res.columns.length) this.result.show({ columns: res.columns, rows: res.rows, truncated: res.truncated });
      else this.result.clear();
      if (DDL.test(sql)) {
        catalog(true).catch(() => {});
        this.host.catalogChanged();
      }
      return true;
    } catch (e) {
      clear(this.status);
      this.showError(e);
      return false;
    } finally {
      window.clearInterval(this.timer);
      this.running = null;
      this.el.classList.remove('running');
    }
  }

  private showError(e: unknown): void {
    const err = e instanceof ApiError ? e : new ApiError(0, 'client', e instanceof Error ? e.message : String(e));
    clear(this.errorBox);
    const cancelled = err.code === '57014';
    this.errorBox.append(
      h('span.sqlstate', { title: 'SQLSTATE' }, err.code),
      h('span.message', null, cancelled ? `Cancelled: ${err.message}` : err.message));
    this.errorBox.hidden = false;
    this.errorBox.dataset.code = err.code;
    this.status.append(h('span.err', { 'data-state': cancelled ? 'cancelled' : 'error' }, cancelled ? 'Cancelled' : 'Error'));
    if (err.position >= 0) this.editor?.markError(err.position);
  }

  // Follow: subscribe this paragraph's query over the page's live connection.
  async setLive(on: boolean): Promise<void> {
    if (this.p.type !== 'sql') return;
    const changed = this.p.live !== on;
    this.p.live = on;
    this.liveBtn?.setAttribute('aria-pressed', String(on));
    this.el.classList.toggle('is-live', on);
    this.result.setLive(on);
    window.clearInterval(this.liveTimer);
    if (changed) this.host.changed();
    if (!on) {
      await live.unsubscribe(this.p.id);
      this.lastLive = null;
      if (this.status.querySelector('.live-status')) clear(this.status);
      return;
    }
    this.errorBox.hidden = true;
    clear(this.status);
    const liveStatus = h('span.live-status', null, h('span.dot'), h('span', null, 'Live'), h('span.lag', null, 'waiting for the first result…'));
    this.status.append(liveStatus);
    let first = true;
    this.liveTimer = window.setInterval(() => this.renderLiveStatus(), 1000);
    try {
      await live.subscribe(this.p.id, {
        sql: this.p.text,
        onResult: (r: LiveResult) => {
          this.lastLive = { at: Date.now(), lag: r.lag_ms, epoch: r.epoch };
          this.errorBox.hidden = true;
          this.result.show({ columns: r.columns, rows: r.rows, truncated: r.truncated }, !first);
          first = false;
          this.el.dataset.epoch = String(r.epoch);
          this.el.dataset.updatedAt = String(this.lastLive.at);
          this.renderLiveStatus();
        },
        onError: (e) => { this.showError(new ApiError(0, e.code, e.message, e.position ?? -1)); },
      });
    } catch (e) {
      this.showError(e);
      this.p.live = false;
      this.liveBtn?.setAttribute('aria-pressed', 'false');
      this.el.classList.remove('is-live');
      this.result.setLive(false);
      window.clearInterval(this.liveTimer);
    }
  }

  private renderLiveStatus(): void {
    const lag = this.status.querySelector('.lag');
    if (!lag || !this.lastLive) return;
    lag.textContent = `lag ${fmtDuration(this.lastLive.lag)} · updated ${fmtTime(this.lastLive.at)} · epoch ${this.lastLive.epoch}`;
  }

  destroy(): void {
    window.clearInterval(this.timer);
    window.clearInterval(this.liveTimer);
    if (this.p.live) void live.unsubscribe(this.p.id);
    void this.running?.cancel();
    this.editor?.destroy();
    this.result.destroy();
  }

  rerenderResult(): void { this.result.rerender(); }
}

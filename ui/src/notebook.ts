// The notebook page: paragraphs in order, add/move/delete, run one or all, autosave.
// Saving: one PUT at a time with the version last read; edits made meanwhile are saved by
// the next PUT. A 409 means someone else saved first: the page offers to reload.
import { h, clear, prompt, toast, uuid } from './dom';
import { ApiError, notebooks, type Notebook, type Paragraph } from './api';
import { ParagraphView, type ParagraphHost } from './paragraph';

const SAVE_DELAY_MS = 600;

export class NotebookPage implements ParagraphHost {
  readonly el = h('div.page.notebook');
  private list = h('div.paragraphs');
  private title = h('h1.title', { tabindex: '0', title: 'Rename (click)' });
  private saveState = h('span.save-state', { 'aria-live': 'polite' });
  private conflict = h('div.banner.warning', { role: 'alert', hidden: true });
  private views: ParagraphView[] = [];
  private dirty = false;
  private saving: Promise<void> | null = null;
  private saveTimer = 0;
  private dead = false;

  constructor(private nb: Notebook) {
    this.title.textContent = nb.name;
    this.title.addEventListener('click', () => void this.rename());
    this.title.addEventListener('keydown', (e) => { if (e.key === 'Enter') void this.rename(); });
    const bar = h('div.page-head', null,
      h('a.back', { href: '#/', title: 'All notebooks' }, '← Notebooks'),
      this.title,
      this.saveState,
      h('span.spacer'),
      h('button', { type: 'button', 'data-action': 'run-all', title: 'Run all paragraphs in order (Ctrl-Shift-Enter)', onclick: () => this.runAll() }, 'Run all'),
      h('a.button', { href: notebooks.exportUrl(nb.id), download: `${nb.name}.json`, title: 'Download as JSON' }, 'Export'));
    this.el.append(bar, this.conflict, this.list,
      h('div.add-row', null,
        h('button', { type: 'button', 'data-action': 'add-sql', onclick: () => this.insertAt(this.views.length, 'sql') }, '+ SQL'),
        h('button', { type: 'button', 'data-action': 'add-markdown', onclick: () => this.insertAt(this.views.length, 'markdown') }, '+ Markdown')));
    for (const p of nb.paragraphs) this.views.push(new ParagraphView(p, this));
    this.renderList();
    this.setSaveState('saved');
    window.addEventListener('beforeunload', this.beforeUnload);
  }

  private beforeUnload = (e: BeforeUnloadEvent) => {
    if (this.dirty || this.saving) e.preventDefault();
  };

  get notebook(): Notebook { return this.nb; }

  private renderList(): void {
    for (const v of this.views) this.list.append(v.el);  // re-appending moves, keeps state
    if (!this.views.length) {
      if (!this.list.querySelector('.empty')) this.list.append(h('p.empty', null, 'No paragraphs yet. Add SQL or Markdown below.'));
    } else this.list.querySelector('.empty')?.remove();
  }

  private setSaveState(s: 'saved' | 'pending' | 'saving' | 'error' | 'conflict'): void {
    this.saveState.dataset.state = s;
    this.saveState.textContent = { saved: 'Saved', pending: 'Edited', saving: 'Saving…', error: 'Not saved', conflict: 'Conflict' }[s];
  }

  // ParagraphHost
  changed(): void {
    this.dirty = true;
    this.setSaveState('pending');
    window.clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(() => void this.save(), SAVE_DELAY_MS);
  }

  move(v: ParagraphView, delta: -1 | 1): void {
    const i = this.views.indexOf(v), j = i + delta;
    if (i < 0 || j < 0 || j >= this.views.length) return;
    [this.views[i], this.views[j]] = [this.views[j], this.views[i]];
    this.renderList();
    this.changed();
  }

  remove(v: ParagraphView): void {
    const i = this.views.indexOf(v);
    if (i < 0) return;
    v.destroy();
    v.el.remove();
    this.views.splice(i, 1);
    this.renderList();
    this.changed();
    this.views[Math.min(i, this.views.length - 1)]?.focus();
  }

  insertAfter(v: ParagraphView, type: 'sql' | 'markdown'): void {
    this.insertAt(this.views.indexOf(v) + 1, type);
  }

  insertAt(index: number, type: 'sql' | 'markdown', text = ''): ParagraphView {
    const p: Paragraph = { id: uuid(), type, text, view: { mode: 'table' }, live: false, unsupported: null };
    const v = new ParagraphView(p, this);
    this.views.splice(index, 0, v);
    const next = this.views[index + 1];
    if (next) this.list.insertBefore(v.el, next.el);
    this.renderList();
    this.changed();
    v.focus();
    return v;
  }

  async runAll(): Promise<void> {
    for (const v of this.views) {
      if (this.dead) return;
      if (!(await v.run())) {
        v.el.scrollIntoView({ block: 'nearest' });
        return;
      }
    }
  }

  catalogChanged(): void {
    for (const v of this.views) v.refreshCatalog();
  }

  focusFirst(): void { this.views[0]?.focus(); }

  rerenderResults(): void {
    for (const v of this.views) v.rerenderResult();
  }

  private async rename(): Promise<void> {
    const name = await prompt('Rename notebook', this.nb.name, 'Rename');
    if (!name || name === this.nb.name) return;
    this.nb.name = name;
    this.title.textContent = name;
    document.title = `${name} · streamlake`;
    this.changed();
  }

  // Saves now (waits for a save in flight first).
  async save(): Promise<void> {
    window.clearTimeout(this.saveTimer);
    while (this.saving) await this.saving;
    if (!this.dirty || this.dead) return;
    this.dirty = false;
    this.setSaveState('saving');
    const body: Notebook = { ...this.nb, paragraphs: this.views.map((v) => v.p) };
    this.saving = (async () => {
      try {
        const saved = await notebooks.save(body);
        this.nb.version = saved.version;
        this.nb.updated_ms = saved.updated_ms;
        this.setSaveState(this.dirty ? 'pending' : 'saved');
      } catch (e) {
        this.dirty = true;
        if (e instanceof ApiError && e.status === 409) this.showConflict();
        else {
          this.setSaveState('error');
          toast(`Could not save: ${e instanceof Error ? e.message : e}`, 'error');
        }
      }
    })();
    await this.saving;
    this.saving = null;
    if (this.dirty && this.saveState.dataset.state === 'pending') this.saveTimer = window.setTimeout(() => void this.save(), SAVE_DELAY_MS);
  }

  private showConflict(): void {
    this.setSaveState('conflict');
    clear(this.conflict);
    this.conflict.append(
      h('span', null, 'This notebook was changed elsewhere since you opened it. Your edits are not saved.'),
      h('span.spacer'),
      h('button.primary', { type: 'button', onclick: () => { this.dirty = false; location.reload(); } }, 'Reload'));
    this.conflict.hidden = false;
  }

  async destroy(): Promise<void> {
    if (this.dirty) await this.save().catch(() => {});
    this.dead = true;
    window.removeEventListener('beforeunload', this.beforeUnload);
    for (const v of this.views) v.destroy();
  }
}

export async function openNotebook(id: string): Promise<NotebookPage> {
  const nb = await notebooks.get(id);
  document.title = `${nb.name} · streamlake`;
  return new NotebookPage(nb);
}

// Runs a query in a throwaway paragraph (used by the health page's error links).
export class ScratchHost implements ParagraphHost {
  readonly scratch = true;
  changed(): void {}
  move(): void {}
  remove(): void {}
  insertAfter(): void {}
  runAll(): void {}
  catalogChanged(): void {}
}

export function scratchParagraph(sql: string): ParagraphView {
  return new ParagraphView({ id: uuid(), type: 'sql', text: sql, view: { mode: 'table' }, live: false, unsupported: null }, new ScratchHost());
}


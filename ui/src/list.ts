// The notebook list: open, create, rename, duplicate, delete, import (ours or Zeppelin), export.
import { h, clear, confirmDialog, fmtAgo, prompt, toast } from './dom';
import { notebooks, type NotebookSummary } from './api';

export class ListPage {
  readonly el = h('div.page.list');
  private body = h('div.list-body');
  private fileInput = h('input', { type: 'file', accept: '.json,.zpln,application/json', class: 'offscreen', 'aria-hidden': 'true', tabindex: '-1' });

  constructor() {
    this.fileInput.addEventListener('change', () => void this.importFile());
    this.el.append(
      h('div.page-head', null, h('h1', null, 'Notebooks'), h('span.spacer'),
        h('button', { type: 'button', 'data-action': 'import', title: 'Import a notebook: our JSON export, or a Zeppelin note.json / .zpln', onclick: () => this.fileInput.click() }, 'Import…'),
        h('button.primary', { type: 'button', 'data-action': 'new-notebook', onclick: () => void this.create() }, 'New notebook')),
      this.fileInput, this.body);
    void this.load();
  }

  async load(): Promise<void> {
    let list: NotebookSummary[];
    try {
      list = await notebooks.list();
    } catch (e) {
      clear(this.body);
      this.body.append(h('p.error-box', null, `Could not list notebooks: ${e instanceof Error ? e.message : e}`));
      return;
    }
    list.sort((a, b) => b.updated_ms - a.updated_ms);
    clear(this.body);
    if (!list.length) {
      this.body.append(h('div.empty', null, h('p', null, 'No notebooks yet.'),
        h('p.hint', null, 'Create one, or import a Zeppelin note (note.json or .zpln).')));
      return;
    }
    this.body.append(h('ul.notebook-list', null, list.map((n) => h('li', { 'data-id': n.id },
      h('a.nb-link', { href: `#/n/${encodeURIComponent(n.id)}` }, h('span.nb-name', null, n.name),
        h('span.nb-meta', null, `${n.paragraphs} paragraph${n.paragraphs === 1 ? '' : 's'} · ${n.owner} · ${fmtAgo(n.updated_ms)}`)),
      h('div.row-actions', null,
        h('button.ghost', { type: 'button', 'data-action': 'rename', onclick: () => void this.rename(n) }, 'Rename'),
        h('button.ghost', { type: 'button', 'data-action': 'duplicate', onclick: () => void this.duplicate(n) }, 'Duplicate'),
        h('a.button.ghost', { href: notebooks.exportUrl(n.id), download: `${n.name}.json` }, 'Export'),
        h('button.ghost.danger', { type: 'button', 'data-action': 'delete', onclick: () => void this.remove(n) }, 'Delete'))))));
  }

  private async create(): Promise<void> {
    const name = await prompt('New notebook', 'Untitled', 'Create');
    if (!name) return;
    try {
      const nb = await notebooks.create(name, [{ id: crypto.randomUUID(), type: 'sql', text: '', view: { mode: 'table' }, live: false, unsupported: null }]);
      location.hash = `#/n/${encodeURIComponent(nb.id)}`;
    } catch (e) { toast(`Could not create: ${e instanceof Error ? e.message : e}`, 'error'); }
  }

  private async rename(n: NotebookSummary): Promise<void> {
    const name = await prompt('Rename notebook', n.name, 'Rename');
    if (!name || name === n.name) return;
    try {
      const nb = await notebooks.get(n.id);
      await notebooks.save({ ...nb, name });
      await this.load();
    } catch (e) { toast(`Could not rename: ${e instanceof Error ? e.message : e}`, 'error'); }
  }

  private async duplicate(n: NotebookSummary): Promise<void> {
    try {
      await notebooks.duplicate(n.id);
      await this.load();
    } catch (e) { toast(`Could not duplicate: ${e instanceof Error ? e.message : e}`, 'error'); }
  }

  private async remove(n: NotebookSummary): Promise<void> {
    if (!(await confirmDialog('Delete notebook?', `“${n.name}” and its ${n.paragraphs} paragraphs will be deleted.`))) return;
    try {
      await notebooks.remove(n.id);
      await this.load();
    } catch (e) { toast(`Could not delete: ${e instanceof Error ? e.message : e}`, 'error'); }
  }

  private async importFile(): Promise<void> {
    const f = this.fileInput.files?.[0];
    this.fileInput.value = '';
    if (!f) return;
    let doc: unknown;
    try {
      doc = JSON.parse(await f.text());
    } catch {
      toast(`${f.name} is not JSON`, 'error');
      return;
    }
    try {
      const nb = await notebooks.import(doc);
      toast(`Imported “${nb.name}”`);
      location.hash = `#/n/${encodeURIComponent(nb.id)}`;
    } catch (e) { toast(`Could not import ${f.name}: ${e instanceof Error ? e.message : e}`, 'error'); }
  }

  destroy(): void {}
}

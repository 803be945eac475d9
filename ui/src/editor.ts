// CodeMirror 6 editors for paragraphs: SQL (PostgreSQL dialect, completion of the catalog's
// relations and columns) and Markdown (plain text, wrapped). Colours come from CSS variables
// (inherited into the shadow root) so the editors follow the light/dark theme.
//
// CSP: CodeMirror's styles (style-mod) go into a <style> element when mounted in a document,
// which `style-src 'self'` refuses, but into a constructed style sheet (adoptedStyleSheets,
// allowed) when mounted in a shadow root. So each editor lives in its own open shadow root.
import { EditorState, Compartment, StateEffect, StateField, type Extension } from '@codemirror/state';
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
  Decoration, type DecorationSet, placeholder as cmPlaceholder,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { syntaxHighlighting, HighlightStyle, bracketMatching, indentOnInput } from '@codemirror/language';
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete';
import { sql, PostgreSQL, type SQLNamespace } from '@codemirror/lang-sql';
import { tags as t } from '@lezer/highlight';
import type { Relation } from './api';

const highlight = HighlightStyle.define([
  { tag: t.keyword, color: 'var(--hl-keyword)', fontWeight: '600' },
  { tag: [t.string, t.special(t.string)], color: 'var(--hl-string)' },
  { tag: [t.number, t.bool, t.null], color: 'var(--hl-number)' },
  { tag: [t.lineComment, t.blockComment, t.comment], color: 'var(--hl-comment)', fontStyle: 'italic' },
  { tag: [t.typeName, t.standard(t.name)], color: 'var(--hl-type)' },
  { tag: [t.operator, t.punctuation], color: 'var(--hl-punct)' },
  { tag: [t.special(t.name), t.quote], color: 'var(--hl-ident)' },
]);

const theme = EditorView.theme({
  '&': { fontSize: '13.5px', maxHeight: '480px', backgroundColor: 'var(--editor-bg)', color: 'var(--fg)' },
  '.cm-scroller': { overflow: 'auto', fontFamily: 'var(--mono)' },
  '.cm-content': { fontFamily: 'var(--mono)', caretColor: 'var(--accent)', padding: '8px 0' },
  '.cm-gutters': { backgroundColor: 'var(--editor-bg)', color: 'var(--fg-faint)', border: 'none' },
  '.cm-activeLine': { backgroundColor: 'var(--editor-active)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--editor-active)' },
  '&.cm-focused': { outline: 'none' },
  '&.cm-focused .cm-cursor': { borderLeftColor: 'var(--accent)' },
  '.cm-selectionBackground, &.cm-focused .cm-selectionBackground, ::selection': { backgroundColor: 'var(--selection) !important' },
  '.cm-sql-error': { textDecoration: 'underline wavy var(--danger)', textUnderlineOffset: '3px', backgroundColor: 'var(--danger-soft)' },
  '.cm-tooltip': { backgroundColor: 'var(--surface)', border: '1px solid var(--border)', color: 'var(--fg)' },
  '.cm-tooltip-autocomplete > ul > li[aria-selected]': { backgroundColor: 'var(--accent)', color: 'var(--accent-fg)' },
  '.cm-placeholder': { color: 'var(--fg-faint)' },
});

// The SQL error mark: set with an absolute range, cleared on the next edit.
const setErrorMark = StateEffect.define<{ from: number; to: number } | null>();
const errorField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    for (const e of tr.effects) {
      if (e.is(setErrorMark)) {
        return e.value ? Decoration.set([Decoration.mark({ class: 'cm-sql-error' }).range(e.value.from, e.value.to)]) : Decoration.none;
      }
    }
    return tr.docChanged ? Decoration.none : deco.map(tr.changes);
  },
  provide: (f) => EditorView.decorations.from(f),
});

export interface EditorOptions {
  kind: 'sql' | 'markdown';
  doc: string;
  onChange(text: string): void;
  onRun(): void;          // Shift-Enter
  onRunAll?(): void;      // Ctrl/Cmd-Shift-Enter
  onEscape?(): void;
  onMove?(delta: -1 | 1): void;  // Ctrl/Cmd-Shift-↑/↓: move the paragraph
  readOnly?: boolean;
  placeholder?: string;
}

export class Editor {
  readonly view: EditorView;
  private schema = new Compartment();

  constructor(parent: HTMLElement, opts: EditorOptions) {
    const runKeys = keymap.of([
      { key: 'Shift-Enter', run: () => { opts.onRun(); return true; } },
      { key: 'Mod-Enter', run: () => { opts.onRun(); return true; } },
      { key: 'Mod-Shift-Enter', run: () => { opts.onRunAll?.(); return true; } },
      { key: 'Mod-Shift-ArrowUp', run: () => { if (!opts.onMove) return false; opts.onMove(-1); return true; } },
      { key: 'Mod-Shift-ArrowDown', run: () => { if (!opts.onMove) return false; opts.onMove(1); return true; } },
      { key: 'Escape', run: () => { if (!opts.onEscape) return false; opts.onEscape(); return true; } },
    ]);
    const ext: Extension[] = [
      runKeys,
      history(),
      drawSelection(),
      highlightActiveLine(),
      keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, indentWithTab]),
      theme,
      errorField,
      EditorView.updateListener.of((u) => { if (u.docChanged) opts.onChange(u.state.doc.toString()); }),
      EditorView.contentAttributes.of({ 'aria-label': opts.kind === 'sql' ? 'SQL' : 'Markdown' }),
      EditorState.readOnly.of(!!opts.readOnly),
    ];
    if (opts.placeholder) ext.push(cmPlaceholder(opts.placeholder));
    if (opts.kind === 'sql') {
      ext.push(lineNumbers(), highlightActiveLineGutter(), bracketMatching(), closeBrackets(), indentOnInput(),
        syntaxHighlighting(highlight), autocompletion({ activateOnTyping: true }),
        this.schema.of(sql({ dialect: PostgreSQL, upperCaseKeywords: false })));
    } else {
      ext.push(EditorView.lineWrapping);
    }
    const root = parent.shadowRoot ?? parent.attachShadow({ mode: 'open' });
    this.view = new EditorView({ parent: root, root, state: EditorState.create({ doc: opts.doc, extensions: ext }) });
  }

  text(): string { return this.view.state.doc.toString(); }
  focus(): void { this.view.focus(); }
  destroy(): void { this.view.destroy(); }

  // Completion of the catalog's relations (and their columns after "name.").
  setCatalog(relations: Relation[]): void {
    const schema: SQLNamespace = {};
    for (const r of relations) schema[r.name] = r.columns.map((c) => ({ label: c.name, type: 'property', detail: c.type }));
    this.view.dispatch({ effects: this.schema.reconfigure(sql({ dialect: PostgreSQL, schema, upperCaseKeywords: false })) });
  }

  // Marks the token at a UTF-8 byte offset (from an SQL error's position) and puts the
  // cursor there; a negative position clears the mark.
  markError(bytePos: number): void {
    if (bytePos < 0) { this.view.dispatch({ effects: setErrorMark.of(null) }); return; }
    const doc = this.text();
    const from = byteToIndex(doc, bytePos);
    let to = from;
    while (to < doc.length && /[\w$."']/.test(doc[to])) to++;
    if (to === from) to = Math.min(doc.length, from + 1);
    if (to === from) return;  // empty document
    this.view.dispatch({
      effects: [setErrorMark.of({ from, to }), EditorView.scrollIntoView(from, { y: 'nearest' })],
      selection: { anchor: from },
    });
  }
}

// Converts a UTF-8 byte offset into a JS (UTF-16) string index.
export function byteToIndex(s: string, bytePos: number): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    if (bytes >= bytePos) return i;
    const c = s.codePointAt(i)!;
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (c >= 0x10000) i++;
  }
  return s.length;
}

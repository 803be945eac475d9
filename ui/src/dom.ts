// Small DOM helpers: the app builds its DOM by hand (no framework).

type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;
type Child = Node | string | null | undefined | false;

// h('button.primary', {onclick: f, title: 'Run'}, 'Run') → <button class="primary" ...>.
// Attribute values: false/null/undefined omit the attribute, true sets it empty; keys
// starting with "on" add event listeners. Never sets a style attribute (CSP style-src).
export function h<K extends keyof HTMLElementTagNameMap>(
  spec: K | `${K}.${string}` | `${K}#${string}`,
  attrs: Attrs | null = null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const m = /^([a-z0-9]+)(?:#([\w-]+))?((?:\.[\w-]+)*)$/.exec(spec);
  if (!m) throw new Error(`bad element spec ${spec}`);
  const el = document.createElement(m[1] as K);
  if (m[2]) el.id = m[2];
  if (m[3]) el.className = m[3].slice(1).replace(/\./g, ' ');
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === false || v === null || v === undefined) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = [el.className, String(v)].filter(Boolean).join(' ');
      else if (k === 'value' && 'value' in el) (el as HTMLInputElement).value = String(v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

export function clear(el: Node): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function uuid(): string {
  return crypto.randomUUID();
}

// Formats a duration in ms as "850 ms", "12.3 s", "4 min 05 s".
export function fmtDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60000), s = Math.floor((ms % 60000) / 1000);
  return `${m} min ${String(s).padStart(2, '0')} s`;
}

export function fmtNumber(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function fmtTime(ms: number | null | undefined): string {
  if (!ms) return '–';
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

export function fmtAgo(ms: number | null | undefined, now = Date.now()): string {
  if (!ms) return '–';
  const d = now - ms;
  if (d < 5000) return 'just now';
  if (d < 60000) return `${Math.round(d / 1000)} s ago`;
  if (d < 3600000) return `${Math.round(d / 60000)} min ago`;
  if (d < 86400000) return `${Math.round(d / 3600000)} h ago`;
  return new Date(ms).toLocaleDateString('en-CA');
}

// Shows a transient message at the bottom of the window.
export function toast(message: string, kind: 'info' | 'error' = 'info'): void {
  let host = document.getElementById('toasts');
  if (!host) {
    host = h('div#toasts', { role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(host);
  }
  const t = h('div.toast', { class: kind }, message);
  host.appendChild(t);
  setTimeout(() => t.remove(), kind === 'error' ? 6000 : 3000);
}

// A modal dialog (native <dialog>): resolves with the input's value, or null if cancelled.
export function prompt(title: string, initial = '', okLabel = 'OK'): Promise<string | null> {
  return new Promise((resolve) => {
    const input = h('input', { type: 'text', value: initial, 'aria-label': title, required: true });
    const form = h('form', { method: 'dialog' },
      h('h2', null, title), input,
      h('div.dialog-buttons', null,
        h('button', { type: 'button', value: 'cancel', onclick: () => { dlg.close(''); } }, 'Cancel'),
        h('button.primary', { type: 'submit', value: 'ok' }, okLabel)));
    const dlg = h('dialog', null, form);
    form.addEventListener('submit', (e) => { e.preventDefault(); dlg.close('ok'); });
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(dlg.returnValue === 'ok' && input.value.trim() ? input.value.trim() : null);
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    input.select();
  });
}

export function confirmDialog(title: string, message: string, okLabel = 'Delete'): Promise<boolean> {
  return new Promise((resolve) => {
    const form = h('form', { method: 'dialog' },
      h('h2', null, title), h('p', null, message),
      h('div.dialog-buttons', null,
        h('button', { type: 'button', onclick: () => dlg.close('') }, 'Cancel'),
        h('button.danger', { type: 'submit' }, okLabel)));
    const dlg = h('dialog', null, form);
    form.addEventListener('submit', (e) => { e.preventDefault(); dlg.close('ok'); });
    dlg.addEventListener('close', () => { dlg.remove(); resolve(dlg.returnValue === 'ok'); });
    document.body.appendChild(dlg);
    dlg.showModal();
  });
}

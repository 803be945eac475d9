// App shell: sign-in gate, top bar (notebooks, health, theme, user, sign out), hash routes:
//   #/            notebook list
//   #/n/<id>      a notebook
//   #/health      health page
import './style.css';
import { h, clear, toast } from './dom';
import { currentSession, loadSession, setUnauthorizedHandler, signOut, live } from './api';
import { signInPage } from './signin';
import { ListPage } from './list';
import { NotebookPage, openNotebook } from './notebook';
import { HealthPage } from './health';

type Page = { el: HTMLElement; destroy(): void | Promise<void>; rerenderResults?(): void; rerender?(): void };

const app = document.getElementById('app')!;
let page: Page | null = null;
let routeSeq = 0;

// Theme: explicit choice in localStorage, else the system's preference.
const THEME_KEY = 'streamlake.theme';
function systemTheme(): 'light' | 'dark' {
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
function applyTheme(): void {
  const t = localStorage.getItem(THEME_KEY) ?? systemTheme();
  document.documentElement.dataset.theme = t;
  page?.rerenderResults?.();
  page?.rerender?.();
}
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);
applyTheme();

function shell(content: HTMLElement): HTMLElement {
  const s = currentSession()!;
  const route = location.hash.startsWith('#/health') ? 'health' : 'notebooks';
  const themeBtn = h('button.icon', { type: 'button', 'data-action': 'theme', title: 'Switch light/dark theme', 'aria-label': 'Switch theme', onclick: () => {
    const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem(THEME_KEY, next);
    applyTheme();
  } }, '◐');
  return h('div.shell', null,
    h('header.topbar', null,
      h('a.brand', { href: '#/' }, h('img', { src: '/favicon.svg', alt: '', width: 22, height: 22 }), h('span', null, 'streamlake')),
      h('nav', { 'aria-label': 'Main' },
        h('a', { href: '#/', 'aria-current': route === 'notebooks' ? 'page' : null }, 'Notebooks'),
        h('a', { href: '#/health', 'aria-current': route === 'health' ? 'page' : null }, 'Health')),
      h('span.spacer'),
      themeBtn,
      h('span.user', { title: `role: ${s.role}` }, s.user, h('span.role', null, s.role)),
      h('button.ghost', { type: 'button', 'data-action': 'sign-out', onclick: async () => {
        await leavePage();
        try { await signOut(); } catch { /* signed out locally anyway */ }
        showSignIn();
      } }, 'Sign out')),
    h('main.content', null, content));
}

async function leavePage(): Promise<void> {
  const p = page;
  page = null;
  if (p) await p.destroy();
}

function showSignIn(notice = ''): void {
  live.close();
  clear(app);
  document.title = 'Sign in · streamlake';
  app.append(signInPage(() => void route(), notice));
}

async function route(): Promise<void> {
  const seq = ++routeSeq;
  if (!currentSession() && !(await loadSession())) {
    if (seq === routeSeq) showSignIn();
    return;
  }
  await leavePage();
  if (seq !== routeSeq) return;
  const hash = location.hash || '#/';
  let next: Page;
  try {
    const m = /^#\/n\/([^/]+)$/.exec(hash);
    if (m) next = await openNotebook(decodeURIComponent(m[1]));
    else if (hash === '#/health') { next = new HealthPage(); document.title = 'Health · streamlake'; }
    else { next = new ListPage(); document.title = 'Notebooks · streamlake'; }
  } catch (e) {
    if (!currentSession()) return;  // 401: the handler showed the sign-in page
    toast(`Could not open: ${e instanceof Error ? e.message : e}`, 'error');
    next = new ListPage();
  }
  if (seq !== routeSeq) { await next.destroy(); return; }
  page = next;
  clear(app);
  app.append(shell(next.el));
  if (next instanceof NotebookPage) next.focusFirst();
}

setUnauthorizedHandler(() => {
  const p = page;
  page = null;
  if (p) void p.destroy();
  showSignIn('Your session ended. Sign in again.');
});
window.addEventListener('hashchange', () => void route());
void route();

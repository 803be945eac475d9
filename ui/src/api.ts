// The server's HTTP API (docs/notebook.md "HTTP API"): session, notebooks, catalog, SQL with
// streamed responses and cancel, live subscriptions over one SSE connection, status.

export interface Session { user: string; role: string; csrf_token: string; expires_at_ms: number }
export interface Column { name: string; type: string }
export interface View { mode: 'table' | 'bar' | 'line' | 'area' | 'pie' | 'scatter'; x?: string | null; y?: string[]; series?: string | null; stacked?: boolean }
export interface Paragraph { id: string; type: 'sql' | 'markdown' | 'text'; text: string; view?: View | null; live?: boolean; unsupported?: string | null }
export interface Notebook { id: string; name: string; owner: string; version: number; created_ms: number; updated_ms: number; paragraphs: Paragraph[] }
export interface NotebookSummary { id: string; name: string; owner: string; updated_ms: number; paragraphs: number }
export interface Relation { name: string; kind: string; columns: Column[] }
export interface SqlError { code: string; message: string; position?: number }
export interface SqlResult { columns: Column[]; rows: unknown[][]; row_count: number; command?: string; error?: SqlError; truncated?: boolean }

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly position = -1) {
    super(message);
  }
}

let session: Session | null = null;
let onUnauthorized: () => void = () => {};

export function currentSession(): Session | null { return session; }
export function setUnauthorizedHandler(f: () => void): void { onUnauthorized = f; }

function headers(json: boolean): Record<string, string> {
  const hdr: Record<string, string> = {};
  if (json) hdr['content-type'] = 'application/json';
  if (session) hdr['x-csrf-token'] = session.csrf_token;
  return hdr;
}

async function errorOf(r: Response): Promise<ApiError> {
  let code = String(r.status), message = `${r.status} ${r.statusText}`, position = -1;
  try {
    const body = await r.json();
    if (body?.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
      position = typeof body.error.position === 'number' ? body.error.position : -1;
    }
  } catch { /* not JSON */ }
  return new ApiError(r.status, code, message, position);
}

function unauthorized(): void {
  session = null;
  onUnauthorized();
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (r.status === 401 && path !== '/v1/session') unauthorized();
  if (!r.ok) throw await errorOf(r);
  if (r.status === 204) return undefined as T;
  return (await r.json()) as T;
}

export async function signIn(user: string, password: string): Promise<Session> {
  session = await request<Session>('POST', '/v1/session', { user, password });
  return session;
}

export async function loadSession(): Promise<Session | null> {
  try {
    session = await request<Session>('GET', '/v1/session');
  } catch {
    session = null;
  }
  return session;
}

export async function signOut(): Promise<void> {
  try { await request<void>('DELETE', '/v1/session'); } finally { session = null; live.close(); }
}

export const notebooks = {
  list: () => request<{ notebooks: NotebookSummary[] }>('GET', '/v1/notebooks').then((r) => r.notebooks),
  get: (id: string) => request<Notebook>('GET', `/v1/notebooks/${encodeURIComponent(id)}`),
  create: (name: string, paragraphs?: Paragraph[]) => request<Notebook>('POST', '/v1/notebooks', { name, paragraphs }),
  save: (nb: Notebook) => request<Notebook>('PUT', `/v1/notebooks/${encodeURIComponent(nb.id)}`, nb),
  remove: (id: string) => request<void>('DELETE', `/v1/notebooks/${encodeURIComponent(id)}`),
  duplicate: (id: string) => request<Notebook>('POST', `/v1/notebooks/${encodeURIComponent(id)}/duplicate`),
  import: (doc: unknown) => request<Notebook>('POST', '/v1/notebooks/import', doc),
  exportUrl: (id: string) => `/v1/notebooks/${encodeURIComponent(id)}/export`,
};

let catalogCache: Promise<Relation[]> | null = null;
export function catalog(refresh = false): Promise<Relation[]> {
  if (refresh || !catalogCache) {
    catalogCache = request<{ relations: Relation[] }>('GET', '/v1/catalog').then((r) => r.relations)
      .catch((e) => { catalogCache = null; throw e; });
  }
  return catalogCache;
}

export interface StatusDoc {
  streams: { name: string; shards: number; status: string; records_in: number; bytes_in: number; records_per_s: number; bytes_per_s: number; retention_hours: number; millis_behind_latest: number }[];
  pipelines: { name: string; kind: string; rows_in: number; rows_out: number; watermark: string | number | null; lag_ms: number; last_checkpoint_ms: number; checkpoint_duration_ms: number; state_bytes: number; errors: number; errors_table: string | null }[];
  sinks: { name: string; files: number; bytes: number; last_commit_ms: number; rows: number }[];
  history: { t: number[]; records_per_s: number[]; rows_per_s: number[] };
}
export const status = () => request<StatusDoc>('GET', '/v1/status');

// Counts the rows of a streamed /v1/sql response as its bytes arrive: a row is an array
// closing at depth 3 ({ → "rows": [ → [row]). Strings are skipped with their escapes.
export class RowCounter {
  rows = 0;
  private depth = 0;
  private inString = false;
  private escape = false;
  // Returns the index in s just after the row that made the count reach `limit`, or -1.
  feed(s: string, limit = Infinity): number {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === 92 /* \ */) this.escape = true;
        else if (c === 34 /* " */) this.inString = false;
        continue;
      }
      if (c === 34) this.inString = true;
      else if (c === 91 /* [ */ || c === 123 /* { */) this.depth++;
      else if (c === 93 /* ] */ || c === 125 /* } */) {
        if (c === 93 && this.depth === 3 && ++this.rows >= limit) {
          this.depth--;
          return i + 1;
        }
        this.depth--;
      }
    }
    return -1;
  }
}

// The most rows a result keeps in the page; a bigger result is cut there and its query
// cancelled (the table shows it as truncated).
export const MAX_RESULT_ROWS = 100_000;

export interface RunningQuery {
  queryId: string;
  result: Promise<SqlResult>;
  cancel(): Promise<void>;
}

// Runs one statement; onProgress(rowsSoFar, bytes) is called as the response streams in.
// The promise resolves with the result (or rejects with ApiError: HTTP or SQL error).
export function runSql(sql: string, onProgress: (rows: number, bytes: number) => void): RunningQuery {
  const queryId = crypto.randomUUID();
  const abort = new AbortController();
  const result = (async (): Promise<SqlResult> => {
    const r = await fetch('/v1/sql', {
      method: 'POST', headers: headers(true), credentials: 'same-origin',
      body: JSON.stringify({ sql, query_id: queryId }), signal: abort.signal,
    });
    if (r.status === 401) unauthorized();
    if (!r.ok) throw await errorOf(r);
    const reader = r.body!.getReader();
    const decoder = new TextDecoder();
    const counter = new RowCounter();
    const parts: string[] = [];
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      const text = decoder.decode(value, { stream: true });
      const cut = counter.feed(text, MAX_RESULT_ROWS);
      onProgress(counter.rows, bytes);
      if (cut >= 0) {
        // Keep {"columns":[…],"rows":[…] up to that row; stop the query and the download.
        parts.push(text.slice(0, cut), ']}');
        void reader.cancel().catch(() => {});
        void request<void>('POST', '/v1/sql/cancel', { query_id: queryId }).catch(() => {});
        const doc = JSON.parse(parts.join('')) as SqlResult;
        return { ...doc, row_count: doc.rows.length, truncated: true };
      }
      parts.push(text);
    }
    parts.push(decoder.decode());
    const doc = JSON.parse(parts.join('')) as SqlResult;
    if (doc.error) throw new ApiError(200, doc.error.code, doc.error.message, doc.error.position ?? -1);
    return doc;
  })();
  return {
    queryId,
    result,
    async cancel() {
      try {
        await request<void>('POST', '/v1/sql/cancel', { query_id: queryId });
      } catch {
        abort.abort();  // the server could not cancel it: at least stop reading
      }
    },
  };
}

// The page's single live connection (SSE). Paragraphs subscribe with their id and query;
// after a reconnect (new connection id) every subscription is sent again.
export interface LiveResult { id: string; columns: Column[]; rows: unknown[][]; row_count: number; epoch: number; lag_ms: number; truncated?: boolean }
type LiveHandler = { sql: string; onResult(r: LiveResult): void; onError(e: SqlError): void };

class Live {
  private source: EventSource | null = null;
  private connection: string | null = null;
  private subs = new Map<string, LiveHandler>();
  private ready: Promise<string> | null = null;

  private open(): Promise<string> {
    if (this.ready) return this.ready;
    this.ready = new Promise((resolve, reject) => {
      const src = new EventSource('/v1/live');
      this.source = src;
      let first = true;
      src.addEventListener('hello', (ev) => {
        this.connection = JSON.parse((ev as MessageEvent).data).connection;
        if (first) { first = false; resolve(this.connection!); return; }
        for (const [id, s] of this.subs) this.post(id, s.sql).catch((e) => s.onError({ code: e.code, message: e.message }));
      });
      src.addEventListener('result', (ev) => {
        const r = JSON.parse((ev as MessageEvent).data) as LiveResult;
        this.subs.get(r.id)?.onResult(r);
      });
      src.addEventListener('error', (ev) => {
        const data = (ev as MessageEvent).data;
        if (typeof data === 'string' && data) {
          const e = JSON.parse(data) as { id: string; error: SqlError };
          this.subs.get(e.id)?.onError(e.error);
        } else if (first && src.readyState === EventSource.CLOSED) {
          this.ready = null;
          reject(new Error('live connection refused'));
        }
      });
    });
    return this.ready;
  }

  private async post(id: string, sql: string): Promise<void> {
    const conn = this.connection ?? await this.open();
    await request<void>('POST', `/v1/live/${encodeURIComponent(conn)}/subscribe`, { id, sql });
  }

  async subscribe(id: string, h: LiveHandler): Promise<void> {
    this.subs.set(id, h);
    await this.open();
    await this.post(id, h.sql);
  }

  async unsubscribe(id: string): Promise<void> {
    if (!this.subs.delete(id) || !this.connection) return;
    try {
      await request<void>('DELETE', `/v1/live/${encodeURIComponent(this.connection)}/subscribe/${encodeURIComponent(id)}`);
    } catch { /* the connection may be gone already */ }
  }

  close(): void {
    this.source?.close();
    this.source = null;
    this.connection = null;
    this.ready = null;
    this.subs.clear();
  }
}

export const live = new Live();

// Differential test: generated tables and queries run in streamlake (through the test-only
// sql_diff_driver, which links sl_sql) and in DuckDB (npm @duckdb/node-api); results are
// compared row by row.
//
//   node test/sql/differential/diff.mjs --driver build/h-diff/test/sql/differential/sql_diff_driver
//        [--seed N|random] [--queries N] [--only K] [--verbose] [--dump FILE]
//
// The seed is printed first; `--seed S --only K` replays query K of seed S alone (the
// tables are regenerated from the seed, so replaying is exact). SL_DIFF_SEED overrides
// --seed. Exit status 1 when any query disagrees.
//
// Comparison: without ORDER BY rows are compared as multisets; numbers (integers, numeric,
// doubles) compare with a relative tolerance of 1e-9; dates and timestamps as text.
// Errors: both sides failing counts as agreement (messages differ); one side failing is a
// discrepancy. Known dialect differences are normalized when generating the DuckDB text
// (see `dk` below and docs/testing.md):
//   - integer `/` truncates in PostgreSQL/streamlake; DuckDB's `/` is float division, so
//     DuckDB gets `//`.
//   - `avg` is double precision in both (PostgreSQL would return numeric for integers).
//   - numeric division has a different scale (streamlake: max(6, scales); DuckDB: double):
//     compared with the tolerance.
//   - ORDER BY always spells NULLS FIRST|LAST (DuckDB's default is NULLS LAST both ways).
//   - LIKE with `\_` gets ESCAPE '\' for DuckDB (PostgreSQL's default escape).
//   - DuckDB bug worked around: `date_trunc(u, ts) <> c` is folded to true for NULL ts.
import { spawnSync } from 'node:child_process';
import { DuckDBInstance } from '@duckdb/node-api';

// ---- arguments -----------------------------------------------------------------------
const args = { seed: '1', queries: 300, only: -1, verbose: false, driver: null };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--driver') args.driver = process.argv[++i];
  else if (a === '--seed') args.seed = process.argv[++i];
  else if (a === '--queries') args.queries = Number(process.argv[++i]);
  else if (a === '--only') args.only = Number(process.argv[++i]);
  else if (a === '--verbose') args.verbose = true;
  else if (a === '--dump') args.dump = process.argv[++i];
  else { console.error(`unknown argument ${a}`); process.exit(2); }
}
if (process.env.SL_DIFF_SEED) args.seed = process.env.SL_DIFF_SEED;
if (!args.driver) { console.error('--driver is required'); process.exit(2); }
const seed = args.seed === 'random' ? (Math.random() * 2 ** 31) >>> 0 : Number(args.seed) >>> 0;
console.log(`differential: seed ${seed}, ${args.queries} queries (replay: --seed ${seed} [--only K])`);

// ---- deterministic random ------------------------------------------------------------
// mulberry32 with its state in a variable, so that map1/map2 can replay the random
// choices made inside a text builder for the DuckDB text.
let state = seed;
function rnd() {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
const chance = (p) => rnd() < p;

// ---- tables ----------------------------------------------------------------------------
// Both engines get identical DDL and INSERT text.
const WORDS = ['apple', 'banana', 'cherry', 'date', 'Elder', 'fig', 'grape', '', ' kiwi ', 'a_b', 'apple pie'];
const pad = (n, w = 2) => String(n).padStart(w, '0');
function genDate() {
  const d = new Date(Date.UTC(2023, 10, 1) + int(0, 500) * 86400000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}
const nul = (p, f) => (chance(p) ? 'NULL' : f());
const TABLES = {
  t1: { rows: 300, cols: {
    id: ['integer NOT NULL', (i) => String(i)],
    a: ['integer', () => nul(0.15, () => String(int(-20, 20)))],
    b: ['integer', () => nul(0.15, () => String(int(0, 6)))],
    g: ['bigint', () => nul(0.1, () => String(int(0, 4)))],
    d: ['double precision', () => nul(0.15, () => (rnd() * 200 - 100).toFixed(3))],
    n: ['numeric(10,2)', () => nul(0.15, () => (int(-99999, 99999) / 100).toFixed(2))],
    s: ['text', () => nul(0.15, () => `'${pick(WORDS)}'`)],
    dt: ['date', () => nul(0.1, () => `DATE '${genDate()}'`)],
    ts: ['timestamp', () => nul(0.1, () => `TIMESTAMP '${genDate()} ${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}'`)],
    f: ['boolean', () => nul(0.15, () => pick(['true', 'false']))],
  } },
  t2: { rows: 120, cols: {
    id: ['integer NOT NULL', (i) => String(i)],
    a: ['integer', () => nul(0.15, () => String(int(-10, 25)))],
    g: ['bigint', () => nul(0.1, () => String(int(0, 6)))],
    d: ['double precision', () => nul(0.15, () => (rnd() * 50).toFixed(2))],
    n: ['numeric(10,2)', () => nul(0.15, () => (int(0, 9999) / 100).toFixed(2))],
    s: ['text', () => nul(0.15, () => `'${pick(WORDS)}'`)],
    dt: ['date', () => nul(0.1, () => `DATE '${genDate()}'`)],
  } },
  t3: { rows: 12, cols: {
    k: ['integer', () => nul(0.1, () => String(int(-3, 8)))],
    label: ['text', () => nul(0.1, () => `'${pick(WORDS)}'`)],
  } },
};
// Column types as the generator sees them.
const TYPE = { integer: 'int', bigint: 'int', 'integer NOT NULL': 'int', 'double precision': 'dbl',
  'numeric(10,2)': 'num', text: 'text', date: 'date', timestamp: 'ts', boolean: 'bool' };
const setup = [];
for (const [name, t] of Object.entries(TABLES)) {
  const cols = Object.entries(t.cols);
  setup.push(`CREATE TABLE ${name} (${cols.map(([c, [ty]]) => `${c} ${ty}`).join(', ')})`);
  const rows = [];
  for (let i = 0; i < t.rows; i++) rows.push(`(${cols.map(([, [, gen]]) => gen(i)).join(', ')})`);
  for (let i = 0; i < rows.length; i += 50) setup.push(`INSERT INTO ${name} VALUES ${rows.slice(i, i + 50).join(', ')}`);
}

// ---- expressions ------------------------------------------------------------------------
// An expression is {sl, dk, t}: streamlake text, DuckDB text, generator type.
const E = (sl, t, dk = sl) => ({ sl, dk, t });
// `f` may draw random numbers: the DuckDB text replays the same draws.
function map2(a, b, f, t) {
  const s0 = state;
  const sl = f(a.sl, b.sl);
  const s1 = state;
  state = s0;
  const dk = f(a.dk, b.dk);
  state = s1;
  return E(sl, t, dk);
}
const map1 = (a, f, t) => map2(a, a, (x) => f(x), t);

function colsOf(scope, t) { return scope.filter((c) => c.t === t); }
function leaf(scope, t) {
  const cs = colsOf(scope, t);
  if (cs.length && chance(0.75)) { const c = pick(cs); return E(c.ref, t); }
  switch (t) {
    case 'int': return E(String(int(-5, 10)), t);
    case 'dbl': return E(`${(rnd() * 20 - 10).toFixed(2)}::double precision`, t);
    case 'num': return E(`${(int(-999, 999) / 100).toFixed(2)}`, t);
    case 'text': return E(`'${pick(['a', 'an', 'e', 'apple', 'x', ''])}'`, t);
    case 'date': return E(`DATE '${genDate()}'`, t);
    case 'ts': return E(`TIMESTAMP '${genDate()} 12:00:00'`, t);
    case 'bool': return E(pick(['true', 'false']), t);
  }
}
function expr(scope, t, depth) {
  if (depth <= 0 || chance(0.3)) {
    // Types without columns in scope still need a way to be built from columns.
    if (t === 'bool' && !colsOf(scope, 'bool').length) return cmp(scope, depth);
    return leaf(scope, t);
  }
  const d = depth - 1;
  const x = () => expr(scope, t, d);
  switch (t) {
    case 'int': return pick([
      () => map2(x(), x(), (a, b) => `(${a} + ${b})`, t),
      () => map2(x(), x(), (a, b) => `(${a} - ${b})`, t),
      () => map2(x(), leaf(scope, 'int'), (a, b) => `(${a} * ${b})`, t),
      () => { const a = x(), b = x(); return E(`(${a.sl} / NULLIF(${b.sl}, 0))`, t, `(${a.dk} // NULLIF(${b.dk}, 0))`); },
      () => map2(x(), x(), (a, b) => `(${a} % NULLIF(${b}, 0))`, t),
      () => map1(x(), (a) => `abs(${a})`, t),
      () => map1(x(), (a) => `(- ${a})`, t),  // '--' would start a comment
      () => map1(expr(scope, 'text', d), (a) => `length(${a})`, t),
      () => map1(expr(scope, 'text', d), (a) => `strpos(${a}, 'a')`, t),
      () => map2(x(), x(), (a, b) => `COALESCE(${a}, ${b})`, t),
      () => map2(x(), x(), (a, b) => `GREATEST(${a}, ${b})`, t),
      () => map2(x(), x(), (a, b) => `LEAST(${a}, ${b})`, t),
      () => map2(x(), x(), (a, b) => `NULLIF(${a}, ${b})`, t),
      () => map1(expr(scope, 'num', d), (a) => `CAST(round(${a}) AS integer)`, t),
      () => map1(expr(scope, 'text', d), (a) => `position('a' IN ${a})`, t),
      () => E(`(SELECT count(*) FROM t3 z WHERE z.k > ${int(-2, 6)})`, t),
      () => { const c = expr(scope, 'bool', d), a = x(), b = x(); return E(`CASE WHEN ${c.sl} THEN ${a.sl} ELSE ${b.sl} END`, t, `CASE WHEN ${c.dk} THEN ${a.dk} ELSE ${b.dk} END`); },
      () => map1(expr(scope, 'date', d), (a) => `CAST(extract(${pick(['year', 'month', 'day', 'dow', 'doy', 'quarter'])} FROM ${a}) AS integer)`, t),
      () => map1(expr(scope, 'ts', d), (a) => `CAST(extract(${pick(['hour', 'minute', 'isodow', 'week'])} FROM ${a}) AS integer)`, t),
      () => map2(expr(scope, 'date', d), expr(scope, 'date', d), (a, b) => `(${a} - ${b})`, t),
      () => map1(expr(scope, 'dbl', d), (a) => `CAST(floor(${a}) AS integer)`, t),
    ])();
    case 'dbl': return pick([
      () => map2(x(), x(), (a, b) => `(${a} + ${b})`, t),
      () => map2(x(), x(), (a, b) => `(${a} * ${b})`, t),
      () => map2(x(), expr(scope, 'int', d), (a, b) => `(${a} - ${b})`, t),
      () => map1(x(), (a) => `abs(${a})`, t),
      () => map1(x(), (a) => `floor(${a})`, t),
      () => map1(x(), (a) => `ceil(${a})`, t),
      () => map1(x(), (a) => `sqrt(abs(${a}))`, t),
      () => map2(x(), x(), (a, b) => `(${a} / NULLIF(${b}, 0))`, t),
      () => map1(expr(scope, 'int', d), (a) => `CAST(${a} AS double precision)`, t),
      () => map1(expr(scope, 'ts', d), (a) => `extract(epoch FROM ${a})`, t),
      () => map1(expr(scope, 'num', d), (a) => `CAST(${a} AS double precision)`, t),
      () => map2(x(), expr(scope, 'num', d), (a, b) => `(${a} + ${b})`, t),
      () => map2(x(), x(), (a, b) => `COALESCE(${a}, ${b})`, t),
    ])();
    case 'num': return pick([
      () => map2(x(), x(), (a, b) => `(${a} + ${b})`, t),
      () => map2(x(), x(), (a, b) => `(${a} - ${b})`, t),
      () => map2(x(), expr(scope, 'int', 0), (a, b) => `(${a} * ${b})`, t),
      () => map1(x(), (a) => `abs(${a})`, t),
      () => map1(x(), (a) => `round(${a}, 1)`, t),
      () => map1(x(), (a) => `floor(${a})`, t),
      () => map1(expr(scope, 'int', d), (a) => `CAST(${a} AS numeric(10,2))`, t),
      () => map2(x(), x(), (a, b) => `COALESCE(${a}, ${b})`, t),
    ])();
    case 'text': return pick([
      () => map1(x(), (a) => `lower(${a})`, t),
      () => map1(x(), (a) => `upper(${a})`, t),
      () => map2(x(), x(), (a, b) => `(${a} || ${b})`, t),
      () => map1(x(), (a) => `substr(${a}, ${int(1, 3)}, ${int(0, 4)})`, t),
      () => map1(x(), (a) => `replace(${a}, 'a', 'o')`, t),
      () => map1(x(), (a) => `trim(${a})`, t),
      () => map1(x(), (a) => `left(${a}, ${int(0, 3)})`, t),
      () => map1(x(), (a) => `right(${a}, ${int(0, 3)})`, t),
      () => map1(x(), (a) => `reverse(${a})`, t),
      () => map1(x(), (a) => `lpad(${a}, ${int(0, 8)}, '*')`, t),
      () => map1(x(), (a) => `rpad(${a}, ${int(0, 8)}, '-')`, t),
      () => map1(x(), (a) => `split_part(${a}, ' ', ${int(1, 2)})`, t),
      () => map1(x(), (a) => `COALESCE(${a}, 'none')`, t),
      () => map2(x(), expr(scope, 'int', d), (a, b) => `concat(${a}, ${b})`, t),
      () => map1(expr(scope, pick(['int', 'date', 'num', 'bool']), d), (a) => `CAST(${a} AS text)`, t),
      () => map1(expr(scope, 'ts', d), (a) => `CAST(${a} AS text)`, t),
      () => map2(x(), x(), (a, b) => `concat_ws('/', ${a}, ${b})`, t),
      () => map1(x(), (a) => `repeat(${a}, ${int(0, 3)})`, t),
      () => map1(x(), (a) => `ltrim(${a}, 'a ')`, t),
      () => { const c = expr(scope, 'bool', d), a = x(), b = x(); return E(`CASE WHEN ${c.sl} THEN ${a.sl} ELSE ${b.sl} END`, t, `CASE WHEN ${c.dk} THEN ${a.dk} ELSE ${b.dk} END`); },
    ])();
    case 'date': return pick([
      () => map2(x(), expr(scope, 'int', 0), (a, b) => `(${a} + CAST(${b} AS integer))`, t),
      () => map1(x(), (a) => `(${a} - ${int(0, 40)})`, t),
      () => map2(x(), x(), (a, b) => `COALESCE(${a}, ${b})`, t),
    ])();
    case 'ts': return pick([
      // DuckDB 1.5 folds `date_trunc(u, ts) <> c` (c not on a u boundary) to true even for a
      // NULL ts; `+ interval '0 days'` keeps its optimizer away.
      () => { const u = pick(['hour', 'day', 'month', 'year', 'minute', 'quarter']), a = x(); return E(`date_trunc('${u}', ${a.sl})`, t, `(date_trunc('${u}', ${a.dk}) + interval '0 days')`); },
      () => map1(x(), (a) => `(${a} + interval '${int(1, 30)} ${pick(['hours', 'days', 'minutes'])}')`, t),
      () => map1(x(), (a) => `(${a} - interval '${int(1, 3)} ${pick(['months', 'days'])}')`, t),
    ])();
    case 'bool': return pick([
      () => cmp(scope, d),
      () => cmp(scope, d),
      () => map2(x(), x(), (a, b) => `(${a} AND ${b})`, t),
      () => map2(x(), x(), (a, b) => `(${a} OR ${b})`, t),
      () => map1(x(), (a) => `(NOT ${a})`, t),
      () => map1(expr(scope, pick(['int', 'text', 'dbl', 'date']), d), (a) => `(${a} IS ${pick(['', 'NOT '])}NULL)`, t),
      () => betweenE(expr(scope, 'int', d)),
      () => { const v = expr(scope, 'int', d); const lst = [1, 2, 3].map(() => int(-5, 10)); if (chance(0.2)) lst.push('NULL'); const not = pick(['', 'NOT ']); return E(`(${v.sl} ${not}IN (${lst.join(', ')}))`, t, `(${v.dk} ${not}IN (${lst.join(', ')}))`); },
      () => { const v = expr(scope, 'text', d); const not = pick(['', 'NOT ']); const p = pick(['a%', '%a%', '_p%', '%e', 'a\\_b', '%']); return E(`(${v.sl} ${not}LIKE '${p}')`, t, `(${v.dk} ${not}LIKE '${p}' ESCAPE '\\')`); },
      () => { const v = expr(scope, 'text', d); const p = pick(['A%', '%E%']); return E(`(${v.sl} ILIKE '${p}')`, t, `(${v.dk} ILIKE '${p}')`); },
      () => map2(expr(scope, 'int', d), expr(scope, 'int', d), (a, b) => `(${a} IS DISTINCT FROM ${b})`, t),
    ])();
  }
  throw new Error(`type ${t}`);
}
function betweenE(v) {
  const lo = int(-10, 0), hi = int(0, 10), not = pick(['', 'NOT ']);
  return E(`(${v.sl} ${not}BETWEEN ${lo} AND ${hi})`, 'bool', `(${v.dk} ${not}BETWEEN ${lo} AND ${hi})`);
}
function cmp(scope, depth) {
  const t = pick(['int', 'int', 'dbl', 'num', 'text', 'date', 'ts']);
  const op = pick(['=', '<>', '<', '<=', '>', '>=']);
  return map2(expr(scope, t, depth), expr(scope, t, depth), (a, b) => `(${a} ${op} ${b})`, 'bool');
}

// ---- queries ------------------------------------------------------------------------------
function scopeOf(table, alias) {
  return Object.entries(TABLES[table].cols).map(([c, [ty]]) => ({ ref: `${alias}.${c}`, t: TYPE[ty] }));
}
const ANY_T = ['int', 'int', 'dbl', 'num', 'text', 'text', 'date', 'ts', 'bool'];
const joinSQL = (parts, k) => parts.map((p) => p[k]).join(', ');

function projection(scope, n, depth) {
  const items = [];
  for (let i = 0; i < n; i++) {
    const e = expr(scope, pick(ANY_T), depth);
    items.push(E(`${e.sl} AS c${i}`, e.t, `${e.dk} AS c${i}`));
  }
  return items;
}
function orderAll(n, dk) {
  const terms = [];
  for (let i = 1; i <= n; i++) terms.push(`${i} ${pick(['ASC', 'DESC'])} NULLS ${pick(['FIRST', 'LAST'])}`);
  return terms.join(', ');
}
// FROM clause and its scope.
function fromClause() {
  const r = rnd();
  if (r < 0.55) return { sl: 't1 x', scope: scopeOf('t1', 'x') };
  if (r < 0.65) return { sl: 't2 y', scope: scopeOf('t2', 'y') };
  const kind = pick(['JOIN', 'LEFT JOIN', 'FULL JOIN', 'JOIN', 'LEFT JOIN', 'RIGHT JOIN']);
  if (r < 0.9) {
    const on = pick([['a', 'a'], ['g', 'g'], ['s', 's'], ['a', 'id'], ['dt', 'dt']]);
    const extra = chance(0.2) ? ` AND x.b = y.g` : '';
    return { sl: `t1 x ${kind} t2 y ON x.${on[0]} = y.${on[1]}${extra}`, scope: [...scopeOf('t1', 'x'), ...scopeOf('t2', 'y')] };
  }
  return { sl: `t2 y ${kind} t3 z ON y.a = z.k`, scope: [...scopeOf('t2', 'y'), ...scopeOf('t3', 'z')] };
}
function subqueryPredicate(scope) {
  const outerInt = colsOf(scope, 'int');
  const o = pick(outerInt).ref;
  const inner = scopeOf('t3', 'z');
  const w = expr(inner, 'bool', 1);
  switch (int(0, 4)) {
    case 0: return E(`${o} IN (SELECT z.k FROM t3 z WHERE ${w.sl})`, 'bool', `${o} IN (SELECT z.k FROM t3 z WHERE ${w.dk})`);
    case 1: return E(`${o} NOT IN (SELECT z.k FROM t3 z WHERE z.k IS NOT NULL AND ${w.sl})`, 'bool', `${o} NOT IN (SELECT z.k FROM t3 z WHERE z.k IS NOT NULL AND ${w.dk})`);
    case 2: return E(`EXISTS (SELECT 1 FROM t3 z WHERE z.k = ${o} AND ${w.sl})`, 'bool', `EXISTS (SELECT 1 FROM t3 z WHERE z.k = ${o} AND ${w.dk})`);
    case 3: return E(`NOT EXISTS (SELECT 1 FROM t3 z WHERE z.k = ${o})`, 'bool');
    default: return E(`${o} > (SELECT min(z.k) FROM t3 z)`, 'bool');
  }
}
const AGG_INT = ['count', 'sum', 'min', 'max', 'avg', 'count_distinct', 'bool'];
function aggregate(scope, depth) {
  const f = pick(['count_star', ...AGG_INT, ...AGG_INT]);
  if (f === 'count_star') return E('count(*)', 'int');
  const t = f === 'sum' || f === 'avg' ? pick(['int', 'dbl', 'num']) : pick(['int', 'dbl', 'num', 'text', 'date']);
  const e = expr(scope, t, depth);
  if (f === 'count_distinct') return map1(e, (a) => `count(DISTINCT ${a})`, 'int');
  if (f === 'bool') { const b = expr(scope, 'bool', depth); return map1(b, (a) => `${pick(['bool_and', 'bool_or'])}(${a})`, 'bool'); }
  if (f === 'sum' && chance(0.2)) return map1(e, (a) => `sum(DISTINCT ${a})`, t === 'int' ? 'int' : t);
  return map1(e, (a) => `${f}(${a})`, f === 'avg' ? 'dbl' : t === 'int' || f === 'count' ? 'int' : t);
}

function genQuery() {
  const shape = pick(['select', 'select', 'group', 'group', 'group', 'union', 'distinct', 'subq']);
  const from = fromClause();
  const sc = from.scope;
  const where = chance(0.6) ? expr(sc, 'bool', 2) : null;
  const W = (k) => (where ? ` WHERE ${where[k]}` : '');
  const mk = (f) => ({ sl: f('sl'), dk: f('dk') });
  switch (shape) {
    case 'select':
    case 'distinct':
    case 'subq': {
      const n = int(1, 4);
      const items = projection(sc, n, 2);
      const sw = shape === 'subq' ? subqueryPredicate(sc) : null;
      const whereText = (k) => {
        const parts = [where && where[k], sw && sw[k]].filter(Boolean);
        return parts.length ? ` WHERE ${parts.join(' AND ')}` : '';
      };
      const dist = shape === 'distinct' ? 'DISTINCT ' : '';
      const ordered = chance(0.35);
      const order = ordered ? ` ORDER BY ${orderAll(n)} LIMIT ${int(1, 30)}${chance(0.3) ? ` OFFSET ${int(1, 5)}` : ''}` : '';
      return { ordered, ...mk((k) => `SELECT ${dist}${joinSQL(items, k)} FROM ${from.sl}${whereText(k)}${order}`) };
    }
    case 'group': {
      const ng = int(1, 2);
      const keys = [];
      for (let i = 0; i < ng; i++) {
        const t = pick(['int', 'text', 'bool', 'date', 'ts', 'int']);
        keys.push(chance(0.6) && colsOf(sc, t).length ? E(pick(colsOf(sc, t)).ref, t) : expr(sc, t, 1));
      }
      const aggs = [];
      for (let i = 0, n = int(1, 3); i < n; i++) aggs.push(aggregate(sc, 1));
      const sel = [...keys.map((e, i) => E(`${e.sl} AS k${i}`, e.t, `${e.dk} AS k${i}`)),
        ...aggs.map((e, i) => E(`${e.sl} AS a${i}`, e.t, `${e.dk} AS a${i}`))];
      // A bare integer literal in GROUP BY is an ordinal: use ordinals then.
      const groupBy = chance(0.5) || keys.some((e) => /^-?\d+$/.test(e.sl)) ? keys.map((_, i) => String(i + 1)) : null;
      const having = chance(0.35) ? (() => {
        const a = aggregate(sc, 1);
        const op = pick(['>', '<', '>=', '=']);
        const v = a.t === 'int' ? String(int(0, 5)) : a.t === 'dbl' || a.t === 'num' ? String(int(-10, 10)) : null;
        return v ? map1(a, (x) => ` HAVING ${x} ${op} ${v}`, 'bool') : E(' HAVING count(*) > 1', 'bool');
      })() : E('', 'bool');
      const ordered = chance(0.35);
      const order = ordered ? ` ORDER BY ${orderAll(sel.length)} LIMIT ${int(1, 20)}` : '';
      return { ordered, ...mk((k) => `SELECT ${joinSQL(sel, k)} FROM ${from.sl}${W(k)} GROUP BY ${groupBy ? groupBy.join(', ') : keys.map((e) => e[k]).join(', ')}${having[k]}${order}`) };
    }
    case 'union': {
      const n = int(1, 3);
      const types = [];
      for (let i = 0; i < n; i++) types.push(pick(['int', 'text', 'date', 'bool', 'dbl']));
      const side = () => {
        const f = fromClause();
        const items = types.map((t, i) => { const e = expr(f.scope, t, 1); return E(`${e.sl} AS c${i}`, t, `${e.dk} AS c${i}`); });
        const w = chance(0.5) ? expr(f.scope, 'bool', 1) : null;
        return mk((k) => `SELECT ${joinSQL(items, k)} FROM ${f.sl}${w ? ` WHERE ${w[k]}` : ''}`);
      };
      const l = side(), r = side();
      const op = pick(['UNION', 'UNION ALL', 'UNION ALL', 'INTERSECT', 'EXCEPT']);
      const ordered = chance(0.3);
      const order = ordered ? ` ORDER BY ${orderAll(n)} LIMIT ${int(1, 30)}` : '';
      return { ordered, ...mk((k) => `${l[k]} ${op} ${r[k]}${order}`) };
    }
  }
  throw new Error(shape);
}

// Some unordered queries run as a CTE or a derived table (the same rows either way).
function wrapped(q) {
  if (q.ordered) return q;
  const r = rnd();
  if (r < 0.12) return { ...q, sl: `WITH w AS (${q.sl}) SELECT * FROM w`, dk: `WITH w AS (${q.dk}) SELECT * FROM w` };
  if (r < 0.2) return { ...q, sl: `SELECT * FROM (${q.sl}) AS sub`, dk: `SELECT * FROM (${q.dk}) AS sub` };
  return q;
}
const queries = [];
for (let i = 0; i < args.queries; i++) queries.push(wrapped(genQuery()));

// ---- run -----------------------------------------------------------------------------------
function runStreamlake(stmts) {
  const res = spawnSync(args.driver, [], { input: stmts.join('\n') + '\n', maxBuffer: 1 << 30, encoding: 'utf8' });
  if (res.status !== 0) {
    console.error(`sql_diff_driver exited with ${res.status} ${res.signal ?? ''}\n${res.stderr}`);
  }
  return res.stdout.split('\n').filter((l) => l.length).map((l) => JSON.parse(l));
}
async function runDuck(stmts) {
  const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await inst.connect();
  const out = [];
  for (const q of stmts) {
    try {
      const r = await con.runAndReadAll(q);
      out.push({ rows: r.getRowsJson() });
    } catch (e) {
      out.push({ error: e.message });
    }
  }
  return out;
}

const selected = args.only >= 0 ? [args.only] : queries.map((_, i) => i);
if (args.dump) {  // the streamlake statements, one per line: sql_diff_driver < FILE
  const fs = await import('node:fs');
  fs.writeFileSync(args.dump, [...setup, ...selected.map((i) => queries[i].sl)].join('\n') + '\n');
}
const slOut = runStreamlake([...setup, ...selected.map((i) => queries[i].sl)]);
const dkOut = await runDuck([...setup, ...selected.map((i) => queries[i].dk)]);

// ---- compare -------------------------------------------------------------------------------
const NUM = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
function norm(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Object.is(v, -0) ? 0 : v;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    if (NUM.test(v)) return Number(v);
    if (v === 'Infinity' || v === '-Infinity' || v === 'NaN') return Number(v);
    return v;
  }
  return JSON.stringify(v);
}
// Numbers sort by 12 significant digits, so that values equal within the tolerance sort alike.
const key = (v) => (v === null ? '\u0000NULL' : typeof v === 'number' ? `n:${Number(v.toPrecision(12))}` : `${typeof v}:${v}`);
function sameValue(a, b) {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) && Number.isNaN(b)) return true;
    return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  return false;
}
function compareRows(sl, dk, ordered) {
  const a = sl.map((r) => r.map(norm)), b = dk.map((r) => r.map(norm));
  if (a.length !== b.length) return `row count ${a.length} (streamlake) vs ${b.length} (duckdb)`;
  if (!ordered) {
    const s = (rows) => rows.sort((x, y) => { const kx = x.map(key).join('\u0001'), ky = y.map(key).join('\u0001'); return kx < ky ? -1 : kx > ky ? 1 : 0; });
    s(a); s(b);
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i].length !== b[i].length) return `column count ${a[i].length} vs ${b[i].length}`;
    for (let j = 0; j < a[i].length; j++) {
      if (!sameValue(a[i][j], b[i][j])) return `row ${i}: ${JSON.stringify(a[i])} (streamlake) vs ${JSON.stringify(b[i])} (duckdb)`;
    }
  }
  return null;
}

let failures = 0, bothErrors = 0, rows = 0;
for (let i = 0; i < setup.length; i++) {
  if (slOut[i]?.error || dkOut[i]?.error) {
    console.error(`setup statement failed: ${setup[i].slice(0, 200)}\n  streamlake: ${slOut[i]?.error}\n  duckdb: ${dkOut[i]?.error}`);
    process.exit(1);
  }
}
selected.forEach((qi, n) => {
  const q = queries[qi];
  const s = slOut[setup.length + n], d = dkOut[setup.length + n];
  let problem = null;
  if (!s) problem = 'no result from streamlake (driver crashed?)';
  else if (s.internal) problem = `internal error in streamlake: ${s.error}`;
  else if (s.error && d.error) { bothErrors++; if (args.verbose) console.log(`#${qi} both failed: ${s.error} | ${d.error}\n  ${q.sl}`); }
  else if (s.error || d.error) problem = `streamlake: ${s.error ?? 'ok'} | duckdb: ${d.error ?? 'ok'}`;
  else { problem = compareRows(s.rows, d.rows, q.ordered); rows += s.rows.length; }
  if (problem) {
    failures++;
    console.log(`MISMATCH query #${qi} (seed ${seed}): ${problem}\n  streamlake: ${q.sl}\n  duckdb:     ${q.dk}`);
  }
});
console.log(`differential: seed ${seed}: ${selected.length} queries, ${rows} rows compared, ${bothErrors} failed in both, ${failures} mismatches`);
if (selected.length >= 50 && bothErrors > selected.length / 10) { console.log('too many queries failed in both engines: the generator is off'); failures++; }
process.exit(failures ? 1 : 0);

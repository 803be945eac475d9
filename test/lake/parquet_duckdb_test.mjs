// Parquet files checked against DuckDB (npm @duckdb/node-api) as the oracle:
//   1. parquet_tool write DIR writes our files (every type, NULLs, each codec, dictionary on
//      and off, NOT NULL, many row groups, empty) with NAME.expected beside each; DuckDB
//      must read every value back identically (and so must our own reader).
//   2. DuckDB writes files (every type it maps to ours, each codec, dictionary on and off,
//      small row groups, data page v2, its defaults); `parquet_tool dump` must return the
//      values DuckDB reads from the same file, with the documented type mapping.
// Fails (never skips) when node, DuckDB or the tool is missing.
//
//   node test/lake/parquet_duckdb_test.mjs --tool build/release/test/lake/parquet_tool --dir /tmp/pq
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { DuckDBInstance, DuckDBIntervalValue } from '@duckdb/node-api';

const args = { tool: null, dir: null, verbose: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--tool') args.tool = process.argv[++i];
  else if (a === '--dir') args.dir = process.argv[++i];
  else if (a === '--verbose') args.verbose = true;
  else { console.error(`unknown argument ${a}`); process.exit(2); }
}
if (!args.tool || !args.dir) { console.error('--tool and --dir are required'); process.exit(2); }
rmSync(args.dir, { recursive: true, force: true });
mkdirSync(args.dir, { recursive: true });

let failures = 0;
function fail(msg) { failures++; console.log(`FAIL ${msg}`); }

function tool(...a) {
  const r = spawnSync(args.tool, a, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  return r;
}

// Parses the dump format: header of name:type cells, then rows of cells.
function parseDump(text) {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const header = lines.shift().split('\t').map((c) => {
    const k = c.indexOf(':');
    return { name: c.slice(0, k), type: c.slice(k + 1) };
  });
  return { header, rows: lines.map((l) => l.split('\t')) };
}

const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const conn = await instance.connect();

// DuckDB's reading of a file in the dump's canonical cell format.
async function duckRows(file) {
  const desc = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowsJS();
  const cols = desc.map((r) => ({ name: r[0], type: r[1] }));
  const exprs = cols.map(({ name, type }) => {
    const c = `"${name}"`;
    if (type === 'FLOAT' || type === 'DOUBLE') return `${c}::DOUBLE`;
    if (type === 'INTERVAL') return c;
    if (type === 'BLOB') return `lower(hex(${c}))`;
    if (type === 'VARCHAR' || type === 'UUID' || type === 'JSON' || type.startsWith('ENUM')) return `lower(hex(${c}::VARCHAR))`;
    if (type === 'DATE') return `(${c} - DATE '1970-01-01')::VARCHAR`;
    if (type.startsWith('TIMESTAMP')) return `epoch_us(${c})::VARCHAR`;
    return `${c}::VARCHAR`;
  });
  const reader = await conn.runAndReadAll(`SELECT ${exprs.join(', ')} FROM read_parquet('${file}')`);
  const rows = reader.getRows().map((row) => row.map((v, k) => {
    if (v === null) return '\\N';
    if (v instanceof DuckDBIntervalValue) return `${v.months}:${v.days}:${v.micros}`;
    if (typeof v === 'number') return v;
    return String(v);
  }));
  return { cols, rows };
}

function sameCell(ours, duck) {
  if (typeof duck === 'number') {
    if (ours === '\\N') return false;
    const x = Number(ours);
    return (Number.isNaN(x) && Number.isNaN(duck)) || x === duck;
  }
  return ours === duck;
}

function compare(what, oursRows, duckRowsList) {
  if (oursRows.length !== duckRowsList.length) {
    fail(`${what}: ${oursRows.length} rows vs DuckDB's ${duckRowsList.length}`);
    return;
  }
  let bad = 0;
  for (let i = 0; i < oursRows.length; i++) {
    const a = oursRows[i], b = duckRowsList[i];
    if (a.length !== b.length) { fail(`${what}: row ${i} has ${a.length} cells vs ${b.length}`); return; }
    for (let k = 0; k < a.length; k++) {
      if (!sameCell(a[k], b[k])) {
        if (bad++ < 5) fail(`${what}: row ${i} column ${k}: ours ${String(a[k]).slice(0, 80)} vs DuckDB ${String(b[k]).slice(0, 80)}`);
      }
    }
  }
  if (bad === 0) console.log(`ok   ${what}: ${oursRows.length} rows`);
}

// ---- 1. our files, read by DuckDB ------------------------------------------------------
const w = tool('write', args.dir);
if (w.status !== 0) { console.error(w.stderr); process.exit(1); }
const ours = readdirSync(args.dir).filter((f) => f.startsWith('ours_') && f.endsWith('.parquet')).sort();
if (ours.length < 11) fail(`parquet_tool wrote only ${ours.length} files`);
// Our types as DuckDB must see them.
const ourTypes = {
  b: 'BOOLEAN', i16: 'SMALLINT', i32: 'INTEGER', i64: 'BIGINT', f32: 'FLOAT', f64: 'DOUBLE',
  n52: 'DECIMAL(5,2)', n184: 'DECIMAL(18,4)', t: 'VARCHAR', by: 'BLOB', d: 'DATE', ts: 'TIMESTAMP',
  tz: 'TIMESTAMP WITH TIME ZONE', iv: 'INTERVAL',
};
for (const f of ours) {
  const path = `${args.dir}/${f}`;
  const expected = parseDump(readFileSync(`${path}.expected`, 'utf8'));
  const duck = await duckRows(path);
  for (const c of duck.cols) {
    if (ourTypes[c.name] !== c.type) fail(`${f}: DuckDB sees ${c.name} as ${c.type}, expected ${ourTypes[c.name]}`);
  }
  compare(`${f} in DuckDB`, expected.rows, duck.rows);
  const d = tool('dump', path);
  if (d.status !== 0) { fail(`${f}: our reader: ${d.stderr}`); continue; }
  const back = parseDump(d.stdout);
  compare(`${f} in our reader`, back.rows, expected.rows);
}

// ---- 2. DuckDB's files, read by us -----------------------------------------------------
const N = 5000;
const nul = (e) => `CASE WHEN i % 7 = 3 THEN NULL ELSE ${e} END`;
const sgn = `(CASE WHEN i % 2 = 0 THEN -1 ELSE 1 END)`;
await conn.run(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`);
await conn.run(`CREATE TABLE src AS SELECT
  ${nul('i % 3 = 0')} AS b,
  ${nul('(i % 256 - 128)::TINYINT')} AS i8,
  ${nul("CASE WHEN i = 0 THEN -32768 WHEN i = 1 THEN 32767 ELSE (i * 37) % 65536 - 32768 END::SMALLINT")} AS i16,
  ${nul("CASE WHEN i = 0 THEN -2147483648 WHEN i = 1 THEN 2147483647 ELSE (i * 7919) % 2000000 - 1000000 END::INTEGER")} AS i32,
  ${nul("CASE WHEN i = 0 THEN -9223372036854775808 WHEN i = 1 THEN 9223372036854775807 ELSE i * 1000003 * " + sgn + " END::BIGINT")} AS i64,
  ${nul('(i % 256)::UTINYINT')} AS u8,
  ${nul('((i * 31) % 65536)::USMALLINT')} AS u16,
  ${nul('((i * 2654435761) % 4294967296)::UINTEGER')} AS u32,
  ${nul('(i * 1000000007)::UBIGINT')} AS u64,
  ${nul("CASE WHEN i = 0 THEN 'nan'::FLOAT WHEN i = 1 THEN '-inf'::FLOAT WHEN i = 2 THEN 3.4028235e38::FLOAT ELSE (i * 0.25 - 100)::FLOAT END")} AS f32,
  ${nul("CASE WHEN i = 0 THEN 'nan'::DOUBLE WHEN i = 1 THEN 'inf'::DOUBLE ELSE i * 1.0625e10 * " + sgn + " END")} AS f64,
  ${nul('CAST(((i * 7) % 19999 - 9999) * 0.1 AS DECIMAL(4,1))')} AS dec41,
  ${nul('CAST(((i * 104729) % 1999999999 - 999999999) * 0.01 AS DECIMAL(9,2))')} AS dec92,
  ${nul("CASE WHEN i = 0 THEN -999999999999.999999 WHEN i = 1 THEN 999999999999.999999 ELSE (i * 1000003 * " + sgn + ") * 0.000001 END::DECIMAL(18,6)")} AS dec186,
  ${nul("CASE WHEN i = 0 THEN '' WHEN i = 1 THEN repeat('x', 2000) WHEN i = 2 THEN 'h\u00e9llo \u20ac' ELSE 'v' || (i % 50) END")} AS v,
  ${nul("'\\xAA\\x00'::BLOB || (i % 20)::VARCHAR::BLOB")} AS bl,
  ${nul("DATE '1970-01-01' + (i * 3 * " + sgn + ")::INTEGER")} AS dt,
  ${nul("TIMESTAMP '2023-11-14 22:13:20' + to_microseconds(i * 1000003 * " + sgn + ")")} AS ts,
  ${nul("(TIMESTAMP '2023-11-14 22:13:20' + to_microseconds(i * 1000003))::TIMESTAMPTZ")} AS tstz,
  ${nul("(TIMESTAMP '2023-11-14 22:13:20' + to_microseconds(i * 1000003))::TIMESTAMP_MS")} AS tms,
  ${nul("(TIMESTAMP '2023-11-14 22:13:20' + to_microseconds(i * 1000003))::TIMESTAMP_NS")} AS tns,
  ${nul("(TIMESTAMP '2023-11-14 22:13:20' + to_microseconds(i * 1000003))::TIMESTAMP_S")} AS tsec,
  ${nul('to_months((i % 13)::INTEGER) + to_days((i % 40)::INTEGER) + to_microseconds((i % 100000) * 1000)')} AS iv,
  ${nul('md5(i::VARCHAR)::UUID')} AS u,
  ${nul("(['sad', 'ok', 'happy'])[i % 3 + 1]::mood")} AS e
  FROM range(0, ${N}) t(i) ORDER BY i`);
// DuckDB type -> ours, as parquet.h documents the mapping of what DuckDB writes.
const mapped = {
  b: 'boolean', i8: 'smallint', i16: 'smallint', i32: 'integer', i64: 'bigint', u8: 'smallint',
  u16: 'integer', u32: 'bigint', u64: 'numeric(18,0)', f32: 'real', f64: 'double precision',
  dec41: 'numeric(4,1)', dec92: 'numeric(9,2)', dec186: 'numeric(18,6)', v: 'text', bl: 'bytea',
  dt: 'date', ts: 'timestamp without time zone', tstz: 'timestamp with time zone',
  tms: 'timestamp without time zone', tns: 'timestamp without time zone', tsec: 'timestamp without time zone',
  iv: 'interval', u: 'text', e: 'text',
};
const variants = [
  ['default', ''],
  ['zstd', ', COMPRESSION zstd'],
  ['snappy', ', COMPRESSION snappy'],
  ['gzip', ', COMPRESSION gzip'],
  ['uncompressed', ', COMPRESSION uncompressed'],
  ['nodict', ', COMPRESSION zstd, DICTIONARY_SIZE_LIMIT 1'],
  ['small_groups', ', ROW_GROUP_SIZE 1000'],
  ['v2', ', PARQUET_VERSION V2'],
  ['v2_zstd_nodict', ', PARQUET_VERSION V2, COMPRESSION zstd, DICTIONARY_SIZE_LIMIT 1'],
];
for (const [name, opts] of variants) {
  const path = `${args.dir}/duck_${name}.parquet`;
  await conn.run(`COPY src TO '${path}' (FORMAT parquet${opts})`);
  const d = tool('dump', path);
  if (d.status !== 0) { fail(`duck_${name}: our reader: ${d.stderr.trim()}`); continue; }
  const back = parseDump(d.stdout);
  for (const h of back.header) {
    if (mapped[h.name] !== h.type) fail(`duck_${name}: we map ${h.name} to ${h.type}, expected ${mapped[h.name]}`);
  }
  const duck = await duckRows(path);
  compare(`duck_${name} in our reader`, back.rows, duck.rows);
}
// An empty DuckDB file and one with NOT NULL columns.
await conn.run(`CREATE TABLE req (a INTEGER NOT NULL, s VARCHAR NOT NULL)`);
await conn.run(`INSERT INTO req SELECT i::INTEGER, 's' || i FROM range(0, 3000) t(i)`);
for (const [name, sql] of [['empty', 'SELECT * FROM src LIMIT 0'], ['not_null', 'SELECT * FROM req']]) {
  const path = `${args.dir}/duck_${name}.parquet`;
  await conn.run(`COPY (${sql}) TO '${path}' (FORMAT parquet)`);
  const d = tool('dump', path);
  if (d.status !== 0) { fail(`duck_${name}: our reader: ${d.stderr.trim()}`); continue; }
  compare(`duck_${name} in our reader`, parseDump(d.stdout).rows, (await duckRows(path)).rows);
}
// Types we refuse get a clear error naming the file and the column.
await conn.run(`COPY (SELECT 1.5::DECIMAL(38,2) AS wide) TO '${args.dir}/duck_wide_decimal.parquet' (FORMAT parquet)`);
const wide = tool('dump', `${args.dir}/duck_wide_decimal.parquet`);
if (wide.status === 0 || !/duck_wide_decimal\.parquet.*"wide"/.test(wide.stderr)) {
  fail(`DECIMAL(38,2) should be refused naming file and column, got: ${wide.stderr}`);
} else console.log(`ok   DECIMAL(38,2) refused: ${wide.stderr.trim()}`);

if (failures) { console.log(`${failures} failure(s)`); process.exit(1); }
console.log('all Parquet files agree with DuckDB');

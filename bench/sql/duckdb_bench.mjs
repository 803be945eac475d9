// DuckDB side of bench/sql: the same generated rows as sql_bench.cc (a pure function of the
// row index), the same queries (queries.tsv), best of REPS, `threads` = THREADS.
//   node bench/sql/duckdb_bench.mjs [rows] [threads] [reps] [queries.tsv] [only]
// Output per query: name <TAB> best ms <TAB> fingerprint (rows, sum of integer cells).
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';

const rows = Number(process.argv[2] ?? 10000000);
const threads = String(process.argv[3] ?? 2);
const reps = Number(process.argv[4] ?? 5);
const qpath = process.argv[5] ?? new URL('./queries.tsv', import.meta.url).pathname;
const only = process.argv[6] ?? '';

const queries = readFileSync(qpath, 'utf8').split('\n').filter((l) => l.includes('\t'))
  .map((l) => { const t = l.indexOf('\t'); return [l.slice(0, t), l.slice(t + 1)]; });

const instance = await DuckDBInstance.create(':memory:', { threads });
const conn = await instance.connect();
const t0 = performance.now();
await conn.run(`CREATE TABLE events AS SELECT
    (10000 + ((i * 2654435761) % 4294967296) // 256 % 90000)::INTEGER AS zipcode,
    'product' || (2 + ((i * 2246822519) % 4294967296) // 256 % 49)::VARCHAR AS product,
    (1 + ((i * 3266489917) % 4294967296) // 256 % 1000)::INTEGER AS price,
    TIMESTAMP '2026-11-01 00:00:00' + to_microseconds(i * 6000) AS ts
  FROM range(${rows}) t(i)`);
await conn.run(`CREATE TABLE products AS SELECT 'product' || k AS name, 'cat' || (k % 5) AS category,
    (k * 10)::INTEGER AS list_price FROM range(1, 51) t(k)`);
console.error(`duckdb: loaded ${rows} rows in ${((performance.now() - t0) / 1000).toFixed(2)} s`);

const intTypes = new Set(['INTEGER', 'BIGINT', 'HUGEINT', 'SMALLINT']);
for (const [name, sql] of queries) {
  if (only && name !== only) continue;
  let best = Infinity;
  let fp = '';
  for (let r = 0; r < reps; r++) {
    const s = performance.now();
    const reader = await conn.runAndReadAll(sql);
    const data = reader.getRowsJS();
    const ms = performance.now() - s;
    best = Math.min(best, ms);
    const types = reader.columnTypes().map((t) => t.toString());
    let isum = 0n;
    for (const row of data)
      row.forEach((v, c) => { if (v !== null && intTypes.has(types[c])) isum += BigInt(v); });
    fp = `rows=${data.length},isum=${isum}`;
  }
  console.log(`${name}\t${best.toFixed(2)}\t${fp}`);
}

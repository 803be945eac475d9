// DuckDB side of bench/lake (run.sh): the same rows as parquet_write_bench.cc (a pure
// function of the row index) in an in-memory table (not timed), then COPY TO Parquet.
//   node bench/lake/duckdb_write.mjs ROWS FILE [CODEC] [THREADS]
// Output: duckdb <TAB> write ms <TAB> file bytes
import { DuckDBInstance } from '@duckdb/node-api';
import { statSync, rmSync } from 'node:fs';

const rows = Number(process.argv[2] ?? 10000000);
const file = process.argv[3];
const codec = process.argv[4] ?? 'zstd';
const threads = String(process.argv[5] ?? 2);
const instance = await DuckDBInstance.create(':memory:', { threads });
const conn = await instance.connect();
await conn.run(`CREATE TABLE events AS SELECT
    (10000 + ((i * 2654435761) % 4294967296) // 256 % 90000)::INTEGER AS zipcode,
    'product' || (1 + ((i * 2246822519) % 4294967296) // 256 % 100)::VARCHAR AS product,
    (1 + ((i * 3266489917) % 4294967296) // 256 % 100)::INTEGER AS price,
    TIMESTAMP '2026-11-01 00:00:00' + to_microseconds(i * 6000) AS ts
  FROM range(${rows}) t(i) ORDER BY i`);
rmSync(file, { force: true });
const t0 = performance.now();
await conn.run(`COPY events TO '${file}' (FORMAT parquet, COMPRESSION ${codec})`);
const ms = performance.now() - t0;
console.log(`duckdb\t${ms.toFixed(1)}\t${statSync(file).size}`);

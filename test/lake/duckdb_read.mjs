// Reads lake data files with DuckDB (the peer reader of the lake crash test).
// Usage: node duckdb_read.mjs <parquet|csv.gz|jsonl.gz> <files.json> <select list>
// files.json holds a JSON array of absolute paths (the files of the latest commit);
// prints the rows of `SELECT <select list> FROM <reader>(files)` as a JSON array of arrays.
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const [format, listFile, select] = process.argv.slice(2);
const files = JSON.parse(readFileSync(listFile, 'utf8'));
if (files.length === 0) {
  console.log('[]');
  process.exit(0);
}
const list = '[' + files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ') + ']';
const from = format === 'parquet' ? `read_parquet(${list})`
  : format === 'csv.gz' ? `read_csv(${list}, header = true, auto_detect = true)`
  : `read_json(${list}, format = 'newline_delimited')`;
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const reader = await con.runAndReadAll(`SELECT ${select} FROM ${from}`);
console.log(JSON.stringify(reader.getRowsJson()));

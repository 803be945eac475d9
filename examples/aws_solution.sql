-- The AWS solution "Real-Time Analytics with Spark Streaming", as streaming SQL.
-- `streamlake demo` runs this file (it is compiled into the binary); run your own copy with
--   streamlake sql -f examples/aws_solution.sql
-- against a running `streamlake serve`. Every statement is idempotent (IF NOT EXISTS), so
-- running it again changes nothing.

-- Kinesis Data Streams -> Spark Streaming: every shard of the stream `sales` is read; each
-- record is one CSV line  zipcode,productN,price,timestamp  (what `streamlake produce` sends).
CREATE TABLE IF NOT EXISTS records (zipcode int, product text, price int, ts timestamp)
  WITH (connector = 'kinesis', stream = 'sales', format = 'csv', event_time = 'ts',
        max_lateness = '5 seconds', start = 'earliest');

-- The solution's second SQL view: products priced between 40 and 50.
CREATE MATERIALIZED VIEW IF NOT EXISTS products AS
  SELECT zipcode, product, price, ts FROM records WHERE price BETWEEN 40 AND 50;

-- A live per-minute chart: sales and average price per product and minute, updated as
-- records arrive (emit = 'changes').
CREATE MATERIALIZED VIEW IF NOT EXISTS sales_per_minute WITH (emit = 'changes') AS
  SELECT window_start, product, count(*) AS sales, avg(price) AS avg_price
  FROM tumble(records, ts, interval '1 minute') GROUP BY window_start, product;

-- S3 historical/yyyy/MM/dd/HH/mm, the lambda architecture's batch layer: every raw record,
-- gzip CSV, under DATA/lake/historical/ (a path 's3://bucket/prefix' writes to S3 instead;
-- docs/lake.md). Committed exactly once with each checkpoint; queryable as a table.
CREATE SINK IF NOT EXISTS historical FROM records
  WITH (connector = 'lake', path = 'historical', format = 'csv.gz', partition = 'yyyy/MM/dd/HH/mm');

-- The products view, archived as Parquet (zstd) for other tools.
CREATE SINK IF NOT EXISTS products_archive FROM products
  WITH (connector = 'lake', path = 'products_archive', format = 'parquet', compression = 'zstd',
        partition = 'yyyy/MM/dd/HH/mm');

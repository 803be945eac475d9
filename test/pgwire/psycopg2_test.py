#!/usr/bin/python3
"""psycopg2 (Debian python3-psycopg2) against streamlake's PostgreSQL wire protocol.
Run with /usr/bin/python3 (the pyenv python3 on PATH lacks Debian's packages).

usage: psycopg2_test.py path/to/pg_test_server
"""
import datetime
import decimal
import os
import sys
import threading

import psycopg2
import psycopg2.errors

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgtest_util import TestServer, make_cert, tempdir  # noqa: E402


def connect(port, user, password, **kw):
    return psycopg2.connect(host="127.0.0.1", port=port, user=user, password=password,
                            dbname="streamlake", connect_timeout=20, **kw)


def main():
    binary = sys.argv[1]
    with tempdir() as d:
        cert, key = make_cert(d)
        with TestServer(binary, ["--tls-cert", cert, "--tls-key", key]) as s:
            conn = connect(s.port, "admin", "adminpw", sslmode="require")
            cur = conn.cursor()
            # psycopg2 opens a transaction (BEGIN) before the first statement.
            cur.execute("CREATE TABLE t (id int, name text, price numeric(10,2), ok boolean, "
                        "d date, ts timestamp, f double precision, b bytea)")
            conn.commit()
            rows = [(1, "pen", decimal.Decimal("1.50"), True, datetime.date(2024, 1, 2),
                     datetime.datetime(2024, 1, 2, 3, 4, 5), 0.25, b"\x00\x01"),
                    (2, "it's", decimal.Decimal("-3.25"), False, datetime.date(1999, 12, 31),
                     datetime.datetime(1999, 12, 31, 23, 59, 59), -1e10, b"xyz"),
                    (3, None, None, None, None, None, None, None)]
            for r in rows:
                cur.execute("INSERT INTO t VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", r)
            conn.commit()
            cur.execute("SELECT id, name, price, ok, d, ts, f, b FROM t WHERE id >= %s ORDER BY id", (1,))
            got = cur.fetchall()
            assert len(got) == 3, got
            for want, have in zip(rows, got):
                have = tuple(bytes(v) if isinstance(v, memoryview) else v for v in have)
                assert have == want, (have, want)
            assert [c.name for c in cur.description] == ["id", "name", "price", "ok", "d", "ts", "f", "b"]
            print("ok   parameterized insert/select round trip, all types")

            # Errors carry SQLSTATE; the transaction must be rolled back.
            try:
                cur.execute("SELECT * FROM missing")
                raise AssertionError("expected an error")
            except psycopg2.errors.UndefinedTable as e:
                assert e.pgcode == "42P01", e.pgcode
            conn.rollback()
            cur.execute("SELECT count(*) FROM t")
            assert cur.fetchone()[0] == 3
            print("ok   UndefinedTable (42P01) and rollback")

            # Server-side prepared statement.
            conn.commit()
            conn.autocommit = True
            cur.execute("PREPARE byname (text) AS SELECT id FROM t WHERE name = $1")
            cur.execute("EXECUTE byname (%s)", ("it's",))
            assert cur.fetchall() == [(2,)]
            cur.execute("DEALLOCATE byname")
            print("ok   PREPARE/EXECUTE with an interpolated argument")

            cur.execute("SELECT version(), current_schema()")
            v, schema = cur.fetchone()
            assert "streamlake" in v and schema == "public", (v, schema)
            assert conn.server_version == 150000, conn.server_version
            conn.close()

            # Roles.
            rconn = connect(s.port, "reader", "readerpw")
            rconn.autocommit = True
            rcur = rconn.cursor()
            for stmt in ("INSERT INTO t VALUES (9, 'x', 1, true, NULL, NULL, NULL, NULL)", "DROP TABLE t",
                         "CREATE TABLE u (x int)"):
                try:
                    rcur.execute(stmt)
                    raise AssertionError("reader ran " + stmt)
                except psycopg2.errors.InsufficientPrivilege as e:
                    assert e.pgcode == "42501"
            rcur.execute("SELECT count(*) FROM t")
            assert rcur.fetchone()[0] == 3
            rconn.close()
            print("ok   reader refused INSERT/DROP/CREATE (42501), nothing changed")

            # Concurrent sessions: one thread per connection on the server.
            errors = []

            def worker(n):
                try:
                    c = connect(s.port, "writer", "writerpw")
                    c.autocommit = True
                    k = c.cursor()
                    for i in range(20):
                        k.execute("SELECT count(*) FROM t WHERE id <= %s", (n % 3 + 1,))
                        assert k.fetchone()[0] == n % 3 + 1
                    c.close()
                except Exception as e:  # noqa: BLE001
                    errors.append(repr(e))

            threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            assert not errors, errors
            print("ok   16 concurrent sessions x 20 queries")

            try:
                connect(s.port, "admin", "bad")
                raise AssertionError("wrong password accepted")
            except psycopg2.OperationalError as e:
                assert "password authentication failed" in str(e), str(e)
            print("ok   wrong password refused")
    print("all psycopg2 checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

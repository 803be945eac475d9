#!/usr/bin/python3
"""psql (Debian postgresql-client) against streamlake's PostgreSQL wire protocol:
password (SCRAM) over SSL and without, queries, \\dt, \\d, PREPARE/EXECUTE, wrong password,
reader refused DDL, SSL required.

usage: psql_test.py path/to/pg_test_server
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgtest_util import TestServer, make_cert, tempdir  # noqa: E402

FAILURES = []


def psql(port, user, password, command, sslmode="disable", expect_ok=True, options=None):
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="20")
    if options:
        env["PGOPTIONS"] = options
    env.pop("PGSERVICE", None)
    conn = "host=127.0.0.1 port=%d user=%s dbname=streamlake sslmode=%s" % (port, user, sslmode)
    p = subprocess.run(["psql", conn, "-X", "-v", "ON_ERROR_STOP=1", "-c", command],
                       env=env, capture_output=True, text=True, timeout=60)
    if expect_ok and p.returncode != 0:
        FAILURES.append("psql %r as %s failed (%d): %s" % (command, user, p.returncode, p.stderr))
    if not expect_ok and p.returncode == 0:
        FAILURES.append("psql %r as %s should have failed: %s" % (command, user, p.stdout))
    return p


def check(cond, what):
    if not cond:
        FAILURES.append(what)
    print(("ok   " if cond else "FAIL ") + what)


def main():
    binary = sys.argv[1]
    with tempdir() as d:
        cert, key = make_cert(d)
        with TestServer(binary, ["--tls-cert", cert, "--tls-key", key]) as s:
            port = s.port
            p = psql(port, "admin", "adminpw", "SELECT version()")
            check("PostgreSQL 15.0 (streamlake)" in p.stdout, "version() over cleartext")

            p = psql(port, "admin", "adminpw", "\\conninfo", sslmode="require")
            check("SSL connection" in p.stdout, "sslmode=require negotiates TLS: " + p.stdout.strip())
            p = psql(port, "admin", "adminpw", "\\conninfo", sslmode="disable")
            check("SSL connection" not in p.stdout and p.returncode == 0, "sslmode=disable stays cleartext")

            psql(port, "admin", "adminpw",
                 "CREATE TABLE sales (zipcode int, product text, price int, ts timestamp)", sslmode="require")
            psql(port, "writer", "writerpw",
                 "INSERT INTO sales VALUES (98101, 'pen', 45, TIMESTAMP '2024-05-01 10:00:00'), "
                 "(10001, 'ink', 12, TIMESTAMP '2024-05-01 10:01:00')")
            p = psql(port, "reader", "readerpw", "SELECT product, price FROM sales ORDER BY price", sslmode="require")
            check("ink" in p.stdout and "pen" in p.stdout and "(2 rows)" in p.stdout, "reader SELECT over SSL")

            p = psql(port, "admin", "adminpw", "\\dt")
            check("sales" in p.stdout and "table" in p.stdout, "\\dt lists sales: " + p.stdout.strip())
            p = psql(port, "admin", "adminpw", "\\d sales")
            check("zipcode" in p.stdout and "integer" in p.stdout and "timestamp without time zone" in p.stdout,
                  "\\d sales describes columns: " + p.stdout.strip())
            psql(port, "admin", "adminpw", "CREATE VIEW pricey AS SELECT product FROM sales WHERE price > 40")
            p = psql(port, "admin", "adminpw", "\\d")
            check("sales" in p.stdout and "pricey" in p.stdout and "view" in p.stdout, "\\d lists relations")
            p = psql(port, "admin", "adminpw", "\\d+ pricey")
            check("View definition" in p.stdout and "price > 40" in p.stdout and "CREATE" not in p.stdout, "\\d+ view shows its definition: " + p.stdout.strip())

            p = psql(port, "reader", "readerpw",
                     "PREPARE cheap (int) AS SELECT product FROM sales WHERE price < $1; EXECUTE cheap(20);")
            check("ink" in p.stdout and "pen" not in p.stdout, "PREPARE/EXECUTE: " + p.stdout.strip())

            p = psql(port, "reader", "readerpw", "SHOW statement_timeout; SHOW extra_float_digits",
                     options="-c statement_timeout=4321 -c extra_float_digits=2")
            check("4321" in p.stdout and " 2\n" in p.stdout, "PGOPTIONS -c settings: " + p.stdout.strip())

            p = psql(port, "admin", "wrong", "SELECT 1", expect_ok=False)
            check("password authentication failed" in p.stderr, "wrong password refused: " + p.stderr.strip())
            p = psql(port, "nobody", "x", "SELECT 1", sslmode="require", expect_ok=False)
            check("password authentication failed" in p.stderr, "unknown user refused")

            p = psql(port, "reader", "readerpw", "CREATE TABLE evil (x int)", expect_ok=False)
            check("permission denied" in p.stderr, "reader refused DDL: " + p.stderr.strip())
            p = psql(port, "reader", "readerpw", "INSERT INTO sales VALUES (1, 'x', 1, NULL)", expect_ok=False)
            check("permission denied" in p.stderr, "reader refused INSERT")
            p = psql(port, "admin", "adminpw", "SELECT count(*) FROM sales")
            check(" 2\n" in p.stdout, "refused statements changed nothing")
            p = psql(port, "admin", "adminpw", "\\dt evil", expect_ok=True)
            check("evil" not in p.stdout, "no table evil")

            p = psql(port, "admin", "adminpw", "SELECT * FROM nope", expect_ok=False)
            check("does not exist" in p.stderr and "LINE 1" in p.stderr, "error with position: " + p.stderr.strip())

        with TestServer(binary, ["--tls-cert", cert, "--tls-key", key, "--require-tls"]) as s:
            p = psql(s.port, "admin", "adminpw", "SELECT 1", sslmode="disable", expect_ok=False)
            check("SSL is required" in p.stderr, "require_tls refuses cleartext: " + p.stderr.strip())
            p = psql(s.port, "admin", "adminpw", "SELECT 1", sslmode="require")
            check(p.returncode == 0, "require_tls accepts TLS")

    if FAILURES:
        print("\n".join(["FAILURES:"] + FAILURES))
        return 1
    print("all psql checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

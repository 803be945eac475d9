#!/usr/bin/python3
"""libpq's extended query protocol (PQprepare / PQexecPrepared / PQexecParams, text and
binary formats, PQdescribePrepared) against streamlake, through ctypes on Debian's libpq5
(the library psql and psycopg2 use). psycopg2 interpolates parameters client-side and
psql 15 has no \\bind, so this is the real-client check of Parse/Bind/Describe/Execute.

usage: libpq_extended_test.py path/to/pg_test_server
"""
import ctypes
import ctypes.util
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgtest_util import TestServer  # noqa: E402

pq = ctypes.CDLL(ctypes.util.find_library("pq") or "libpq.so.5")
pq.PQconnectdb.restype = ctypes.c_void_p
pq.PQconnectdb.argtypes = [ctypes.c_char_p]
pq.PQstatus.argtypes = [ctypes.c_void_p]
pq.PQerrorMessage.restype = ctypes.c_char_p
pq.PQerrorMessage.argtypes = [ctypes.c_void_p]
pq.PQfinish.argtypes = [ctypes.c_void_p]
pq.PQexec.restype = ctypes.c_void_p
pq.PQexec.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
pq.PQprepare.restype = ctypes.c_void_p
pq.PQprepare.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int,
                         ctypes.POINTER(ctypes.c_uint)]
pq.PQexecPrepared.restype = ctypes.c_void_p
pq.PQexecPrepared.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p),
                              ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int), ctypes.c_int]
pq.PQexecParams.restype = ctypes.c_void_p
pq.PQexecParams.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_uint),
                            ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_int),
                            ctypes.POINTER(ctypes.c_int), ctypes.c_int]
pq.PQdescribePrepared.restype = ctypes.c_void_p
pq.PQdescribePrepared.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
for f in ("PQresultStatus", "PQntuples", "PQnfields", "PQnparams"):
    getattr(pq, f).argtypes = [ctypes.c_void_p]
pq.PQparamtype.restype = ctypes.c_uint
pq.PQparamtype.argtypes = [ctypes.c_void_p, ctypes.c_int]
pq.PQftype.restype = ctypes.c_uint
pq.PQftype.argtypes = [ctypes.c_void_p, ctypes.c_int]
pq.PQgetvalue.restype = ctypes.POINTER(ctypes.c_char)
pq.PQgetvalue.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
pq.PQgetlength.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
pq.PQgetisnull.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
pq.PQresultErrorField.restype = ctypes.c_char_p
pq.PQresultErrorField.argtypes = [ctypes.c_void_p, ctypes.c_int]
pq.PQclear.argtypes = [ctypes.c_void_p]
pq.PQcmdStatus.restype = ctypes.c_char_p
pq.PQcmdStatus.argtypes = [ctypes.c_void_p]

PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_FATAL_ERROR = 1, 2, 7
PG_DIAG_SQLSTATE, PG_DIAG_STATEMENT_POSITION = ord("C"), ord("P")


def value(res, row, col):
    if pq.PQgetisnull(res, row, col):
        return None
    return ctypes.string_at(pq.PQgetvalue(res, row, col), pq.PQgetlength(res, row, col))


def run(conn, sql):
    res = pq.PQexec(conn, sql.encode())
    st = pq.PQresultStatus(res)
    assert st in (PGRES_COMMAND_OK, PGRES_TUPLES_OK), (sql, pq.PQerrorMessage(conn))
    pq.PQclear(res)


def params(values):
    arr = (ctypes.c_char_p * len(values))(*values)
    lens = (ctypes.c_int * len(values))(*[len(v) if v is not None else 0 for v in values])
    return arr, lens


def main():
    with TestServer(sys.argv[1]) as s:
        conn = pq.PQconnectdb(("host=127.0.0.1 port=%d user=admin password=adminpw dbname=streamlake "
                               "sslmode=disable connect_timeout=20" % s.port).encode())
        assert pq.PQstatus(conn) == 0, pq.PQerrorMessage(conn)
        run(conn, "CREATE TABLE m (id int, name text, amount bigint, price double precision, ok boolean)")
        run(conn, "INSERT INTO m VALUES (1, 'a', 10, 0.5, true), (2, 'b', 20, 1.5, false), (3, 'c', 30, 2.5, true)")

        # PQprepare with an untyped parameter; PQdescribePrepared sees the inferred type.
        res = pq.PQprepare(conn, b"q", b"SELECT id, name, amount, price, ok FROM m WHERE id >= $1 ORDER BY id", 0, None)
        assert pq.PQresultStatus(res) == PGRES_COMMAND_OK, pq.PQerrorMessage(conn)
        pq.PQclear(res)
        res = pq.PQdescribePrepared(conn, b"q")
        assert pq.PQnparams(res) == 1 and pq.PQparamtype(res, 0) == 23, pq.PQparamtype(res, 0)
        assert [pq.PQftype(res, i) for i in range(5)] == [23, 25, 20, 701, 16]
        pq.PQclear(res)

        # Text parameters, text results.
        arr, lens = params([b"2"])
        res = pq.PQexecPrepared(conn, b"q", 1, arr, lens, None, 0)
        assert pq.PQresultStatus(res) == PGRES_TUPLES_OK, pq.PQerrorMessage(conn)
        assert pq.PQntuples(res) == 2
        assert [value(res, 0, i) for i in range(5)] == [b"2", b"b", b"20", b"1.5", b"f"]
        pq.PQclear(res)
        print("ok   PQprepare/PQdescribePrepared/PQexecPrepared, text format")

        # Binary parameter and binary results.
        arr, lens = params([struct.pack(">i", 3)])
        fmts = (ctypes.c_int * 1)(1)
        res = pq.PQexecPrepared(conn, b"q", 1, arr, lens, fmts, 1)
        assert pq.PQresultStatus(res) == PGRES_TUPLES_OK, pq.PQerrorMessage(conn)
        assert pq.PQntuples(res) == 1
        assert struct.unpack(">i", value(res, 0, 0))[0] == 3
        assert value(res, 0, 1) == b"c"
        assert struct.unpack(">q", value(res, 0, 2))[0] == 30
        assert struct.unpack(">d", value(res, 0, 3))[0] == 2.5
        assert value(res, 0, 4) == b"\x01"
        pq.PQclear(res)
        print("ok   binary parameter and binary results")

        # PQexecParams with a declared int8 parameter in binary and an INSERT.
        types = (ctypes.c_uint * 3)(23, 25, 20)
        arr, lens = params([b"4", b"d", struct.pack(">q", 40)])
        fmts = (ctypes.c_int * 3)(0, 0, 1)
        res = pq.PQexecParams(conn, b"INSERT INTO m (id, name, amount) VALUES ($1, $2, $3)", 3, types, arr, lens, fmts, 0)
        assert pq.PQresultStatus(res) == PGRES_COMMAND_OK, pq.PQerrorMessage(conn)
        assert pq.PQcmdStatus(res) == b"INSERT 0 1", pq.PQcmdStatus(res)
        pq.PQclear(res)
        res = pq.PQexecParams(conn, b"SELECT amount FROM m WHERE name = $1", 1, None, *params([b"d"]), None, 0)
        assert value(res, 0, 0) == b"40", value(res, 0, 0)
        pq.PQclear(res)
        print("ok   PQexecParams INSERT with a binary int8 parameter")

        # Errors: SQLSTATE and position through the extended protocol; the session recovers.
        res = pq.PQexecParams(conn, b"SELECT nosuch FROM m", 0, None, None, None, None, 0)
        assert pq.PQresultStatus(res) == PGRES_FATAL_ERROR
        assert pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) == b"42703", pq.PQresultErrorField(res, PG_DIAG_SQLSTATE)
        assert pq.PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) == b"8"
        pq.PQclear(res)
        run(conn, "SELECT 1")
        print("ok   extended-protocol error with SQLSTATE and position, then recovery")
        pq.PQfinish(conn)
    print("all libpq extended-protocol checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

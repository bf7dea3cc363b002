"""Helpers for comparing warehouses across engines: every table's rows, read back as sorted Python values."""

from __future__ import annotations

import hashlib

import duckdb
import psycopg

from conftest import DATA_TABLES


def duckdb_rows(warehouse: str, table: str) -> tuple[list[str], list[str]]:
    """Column names and the sorted `repr` of every row of a DuckDB table."""
    con = duckdb.connect(warehouse, read_only=True)
    try:
        cur = con.execute(f"SELECT * FROM {table}")
        return [d[0] for d in cur.description], sorted(map(repr, cur.fetchall()))
    finally:
        con.close()


def postgres_rows(url: str, table: str) -> tuple[list[str], list[str]]:
    """Column names and the sorted `repr` of every row of a PostgreSQL table (found on the engine's search path)."""
    with psycopg.connect(url, options="-c search_path=published,internal,staging") as con:
        cur = con.execute(f"SELECT * FROM {table}")
        return [d.name for d in cur.description], sorted(map(repr, cur.fetchall()))


def postgres_hashes(url: str, tables: tuple[str, ...] = DATA_TABLES) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent content hash per table."""
    hashes = {}
    for table in tables:
        columns, rows = postgres_rows(url, table)
        hashes[table] = (len(rows), hashlib.sha256("\n".join([",".join(columns), *rows]).encode()).hexdigest())
    return hashes

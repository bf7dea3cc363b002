"""The SQL the pipeline runs on an engine, as one script: set-up, loading the staged zone, the build, the gates.

`cryptopulse sql-render --dialect duckdb|postgres|spark|redshift` prints it. DuckDB, PostgreSQL and Spark are
what the engines execute (PostgreSQL's COPY … FROM STDIN is streamed by cryptopulse); Redshift, which cannot
run here, loads the staged zone with `COPY … FROM 's3://…' IAM_ROLE … FORMAT AS …` and runs the same models.
"""

from __future__ import annotations

import csv
from importlib import resources

import sqlglot

from cryptopulse.config import ConfigError
from cryptopulse.engines.base import STAGED_COLUMNS, STAGED_DATASETS
from cryptopulse.engines.duckdb import staged_view_sql
from cryptopulse.interval import Interval
from cryptopulse.models.build import SYSTEM_LOADS, partition_filter
from cryptopulse.models.dialects import column_ddl
from cryptopulse.models.registry import load_models, render
from cryptopulse.pipeline import SYSTEM_DDL
from cryptopulse.quality.checks import all_checks
from cryptopulse.staging.common import QUARANTINE_FILE, STATS_FILE, partition_dir

DIALECTS = ("duckdb", "postgres", "spark", "redshift")
SCHEMAS = {"published": "published", "internal": "internal", "staging": "staging"}  # the PostgreSQL engine's layout
EXAMPLE_IAM_ROLE = "arn:aws:iam::123456789012:role/cryptopulse-redshift-copy"
COINS_FILE = "staged/coins/part-0.parquet"
# Constructs Redshift rejects at run time although they parse; the script says what to do instead.
REDSHIFT_GAPS = {
    "GENERATE_SERIES(": "GENERATE_SERIES runs on Redshift's leader node only: fill this table from a calendar table",
    "UNNEST(": "Redshift cannot unnest a split string: build this table on another engine and load its rows",
}


class ScriptError(ConfigError):
    """Options that cannot give a script (unknown dialect, a Redshift load from outside S3)."""


def render_script(
    dialect: str, interval: Interval, lake_uri: str, iam_role: str = EXAMPLE_IAM_ROLE, freshness_hours: int = 36
) -> str:
    """Every statement a run over `interval` executes on `dialect`, reading the staged zone under `lake_uri`."""
    if dialect not in DIALECTS:
        raise ScriptError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    if dialect == "redshift" and not lake_uri.startswith("s3://"):
        raise ScriptError(f"Redshift loads the staged zone with COPY from S3: give --lake s3://bucket/prefix (got {lake_uri})")
    lake_uri = lake_uri.rstrip("/")
    sections = [
        ("set-up", _setup(dialect)),
        ("load the staged zone", _load_staged(dialect, interval, lake_uri, iam_role)),
        ("tables on first use", _create_tables(dialect, interval)),
        ("build: replace the interval's partitions (one transaction)", _build(dialect, interval)),
        ("quality gates: each query must return no rows, or the transaction is rolled back", _gates(dialect, interval, freshness_hours)),
    ]
    header = f"-- cryptopulse {dialect} script for days [{interval.start}, {interval.end}), staged zone {lake_uri}/staged\n"
    return header + "".join(f"\n-- == {title} ==\n" + "".join(f"{s};\n" for s in statements) for title, statements in sections)


def _setup(dialect: str) -> list[str]:
    if dialect not in ("postgres", "redshift"):
        return []
    statements = [f"CREATE SCHEMA IF NOT EXISTS {s}" for s in SCHEMAS.values()]
    return [*statements, f"SET search_path TO {', '.join(SCHEMAS.values())}"]


def _staged_files(interval: Interval) -> dict[str, list[tuple[str, str]]]:
    """Per staged relation: (lake-relative file, format) it reads for the interval."""
    days = interval.days()
    files: dict[str, list[tuple[str, str]]] = {"stg_coins": [(COINS_FILE, "parquet")]}
    for table, (dataset, name) in STAGED_DATASETS.items():
        files[table] = [(f"{partition_dir(dataset, d)}/{name}", name.rsplit(".", 1)[1]) for d in days]
    files["stg_quarantine"] = [(f"{partition_dir(ds, d)}/{QUARANTINE_FILE}", "parquet") for ds, _ in STAGED_DATASETS.values() for d in days]
    files["stg_stats"] = [(f"{partition_dir(ds, d)}/{STATS_FILE}", "json") for ds, _ in STAGED_DATASETS.values() for d in days]
    return files


def _load_staged(dialect: str, interval: Interval, lake_uri: str, iam_role: str) -> list[str]:
    statements = []
    for table, files in _staged_files(interval).items():
        fmt = files[0][1]
        uris = [f"{lake_uri}/{path}" for path, _ in files]
        if dialect == "duckdb":
            statements.append(staged_view_sql(table, uris, fmt))
        elif dialect == "spark":
            statements.append(_spark_view(table, uris, fmt))
        else:
            columns = column_ddl(STAGED_COLUMNS[table], dialect)
            unlogged = "UNLOGGED " if dialect == "postgres" else ""
            statements += [f"CREATE {unlogged}TABLE IF NOT EXISTS staging.{table} ({columns})", f"TRUNCATE staging.{table}"]
            statements += [_copy(dialect, table, uri, fmt, iam_role) for uri in uris]
    return statements + _seeds(dialect)


def _copy(dialect: str, table: str, uri: str, fmt: str, iam_role: str) -> str:
    if dialect == "postgres":
        names = ", ".join(c.split()[0] for c in STAGED_COLUMNS[table].split(", "))
        return f"/* cryptopulse streams {uri} */ COPY staging.{table} ({names}) FROM STDIN WITH (FORMAT csv)"
    options = {"parquet": "FORMAT AS PARQUET", "csv": "FORMAT AS CSV IGNOREHEADER 1", "json": "FORMAT AS JSON 'auto'"}[fmt]
    return f"COPY staging.{table} FROM '{uri}' IAM_ROLE '{iam_role}' {options}"


def _spark_view(table: str, uris: list[str], fmt: str) -> str:
    """A temp view over the files; Spark's path globs take `{a,b}` alternatives, so one path covers all days."""
    paths = uris[0] if len(uris) == 1 else _glob_alternatives(uris)
    schema = column_ddl(STAGED_COLUMNS[table], "spark")
    options = f"path '{paths}'" + (", header 'true'" if fmt == "csv" else "")
    return f"CREATE OR REPLACE TEMPORARY VIEW {table} ({schema}) USING {fmt} OPTIONS ({options})"


def _glob_alternatives(uris: list[str]) -> str:
    """`…/date={2024-01-01,2024-01-02}/part-0.csv` for files that differ only in their `date=` folder."""
    prefixes = {u.split("date=")[0] for u in uris}
    suffixes = {u.split("date=")[1].split("/", 1)[1] for u in uris}
    if len(prefixes) == 1 and len(suffixes) == 1:
        days = ",".join(u.split("date=")[1].split("/", 1)[0] for u in uris)
        return f"{prefixes.pop()}date={{{days}}}/{suffixes.pop()}"
    return "{" + ",".join(uris) + "}"


def _seeds(dialect: str) -> list[str]:
    statements = []
    seeds = resources.files("cryptopulse.models").joinpath("seeds")
    for seed in sorted(seeds.iterdir()):
        if not seed.name.endswith(".csv"):
            continue
        header, *rows = list(csv.reader(seed.read_text().splitlines()))
        table = "seed_" + seed.name.removesuffix(".csv")
        values = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
        if dialect in ("postgres", "redshift"):
            columns = ", ".join(f"{c} VARCHAR" for c in header)
            unlogged = "UNLOGGED " if dialect == "postgres" else ""
            statements += [f"CREATE {unlogged}TABLE IF NOT EXISTS staging.{table} ({columns})", f"TRUNCATE staging.{table}",
                           f"INSERT INTO staging.{table} ({', '.join(header)}) VALUES {values}"]
        else:
            kind = "TEMP TABLE" if dialect == "duckdb" else "TEMPORARY VIEW"
            statements.append(f"CREATE OR REPLACE {kind} {table} AS SELECT * FROM (VALUES {values}) AS t({', '.join(header)})")
    return statements


def _create_tables(dialect: str, interval: Interval) -> list[str]:
    """Each table is created empty, with the columns and types its SELECT yields, when it does not exist yet."""
    statements = []
    for model in load_models():
        select = render(model.sql, dialect, model.model_interval(interval))
        statements.append(_create_as(dialect, _qualified(dialect, model.name, "published"), select, model.partition))
    for table, (view, columns) in SYSTEM_LOADS.items():
        statements.append(_create_as(dialect, _qualified(dialect, table, "internal"), f"SELECT {columns} FROM {view}", "date"))
    for table, columns in SYSTEM_DDL.items():
        statements.append(f"CREATE TABLE IF NOT EXISTS {_qualified(dialect, table, 'internal')} ({column_ddl(columns, dialect)})")
    return statements


def _create_as(dialect: str, table: str, select: str, partition: str | None) -> str:
    empty = f"SELECT * FROM ({select}) AS m WHERE 1 = 0"
    if dialect == "spark":
        partitioned = f" PARTITIONED BY ({partition})" if partition else ""
        return f"CREATE TABLE IF NOT EXISTS {table} USING parquet{partitioned} AS {empty}"
    if dialect == "redshift":  # no IF NOT EXISTS with AS: run once
        return f"/* first run only */ {_redshift_warning(dialect, select)}CREATE TABLE {table} AS {empty}"
    return f"CREATE TABLE IF NOT EXISTS {table} AS {empty}"


def _build(dialect: str, interval: Interval) -> list[str]:
    replaced = [(m.name, render(m.sql, dialect, scope := m.model_interval(interval)), m.partition if m.incremental else None, scope)
                for m in load_models()]
    for table, (view, columns) in SYSTEM_LOADS.items():
        replaced.append((table, f"SELECT {columns} FROM {view} WHERE {partition_filter('date', interval)}", "date", interval))
    if dialect == "spark":  # no DELETE on Parquet tables: overwrite the partitions the SELECT yields
        return ["SET spark.sql.sources.partitionOverwriteMode = dynamic",
                *(f"INSERT OVERWRITE TABLE {table} {select}" for table, select, _, _ in replaced)]
    statements = ["BEGIN"]
    for table, select, partition, scope in replaced:
        target = _qualified(dialect, table, "published" if table not in SYSTEM_LOADS else "internal")
        where = partition_filter(partition, scope) if partition else "1 = 1"
        statements += [f"DELETE FROM {target} WHERE {where}", _redshift_warning(dialect, select) + f"INSERT INTO {target} {select}"]
        if dialect in ("postgres", "redshift"):
            statements.append(f"ANALYZE {target}")
    return statements


def _gates(dialect: str, interval: Interval, freshness_hours: int) -> list[str]:
    checks = all_checks(interval, freshness_hours)
    statements = [f"/* {c.model}.{c.name} */ {sqlglot.transpile(c.violations_sql, read='duckdb', write=dialect)[0]}" for c in checks]
    return statements if dialect == "spark" else [*statements, "COMMIT"]


def _redshift_warning(dialect: str, select: str) -> str:
    gaps = [why for construct, why in REDSHIFT_GAPS.items() if dialect == "redshift" and construct in select]
    return "".join(f"/* NOT RUNNABLE ON REDSHIFT: {why} */ " for why in gaps)


def _qualified(dialect: str, table: str, schema: str) -> str:
    return f"{schema}.{table}" if dialect in ("postgres", "redshift") else table


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"

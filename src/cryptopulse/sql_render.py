"""The SQL a run executes on an engine, as one script: set-up, loading the staged zone, the build, the gates.

`cryptopulse sql-render --dialect duckdb|postgres|spark|redshift` prints it. The DuckDB and PostgreSQL scripts are
the statements those engines execute, taken from the same functions (`engines/duckdb.py`, `engines/postgres.py`):
run by the plain client (`duckdb`, `psql`) they give the tables a run gives. PostgreSQL's staged files, which the
engine streams in-process with COPY … FROM STDIN, become psql's `\\copy … FROM PROGRAM` of the same conversion.
Spark's engine writes its tables through DataFrames; its script is the Spark SQL equivalent. Redshift, which cannot
run here, loads the staged zone with `COPY … FROM 's3://…' IAM_ROLE … FORMAT AS …` and runs the same models.
"""

from __future__ import annotations

import sqlglot

from cryptopulse.config import ConfigError
from cryptopulse.engines import duckdb as duckdb_engine
from cryptopulse.engines import postgres as postgres_engine
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.models.build import Replacement, model_replacement, system_replacements
from cryptopulse.models.registry import load_models
from cryptopulse.pipeline import SYSTEM_DDL
from cryptopulse.quality.checks import all_checks
from cryptopulse.sqltext import column_ddl, partition_filter, replace_statements, values_sql
from cryptopulse.staging.zone import StagedRelation, seeds, staged_relations

DIALECTS = ("duckdb", "postgres", "spark", "redshift")
EXAMPLE_IAM_ROLE = "arn:aws:iam::123456789012:role/cryptopulse-redshift-copy"
# Constructs Redshift rejects at run time although they parse; the script says what to do instead.
REDSHIFT_GAPS = {
    "GENERATE_SERIES(": "GENERATE_SERIES runs on Redshift's leader node only: fill this table from a calendar table",
    "UNNEST(": "Redshift cannot unnest a split string: build this table on another engine and load its rows",
}
Sections = list[tuple[str, list[str]]]


class ScriptError(ConfigError):
    """Options that cannot give a script (unknown dialect, a Redshift load from outside S3)."""


def render_script(
    dialect: str,
    interval: Interval,
    lake_uri: str,
    iam_role: str = EXAMPLE_IAM_ROLE,
    freshness_hours: int = 36,
    lake: Lake | None = None,
) -> str:
    """Every statement a run over `interval` executes on `dialect`, reading the staged zone under `lake_uri`: the
    staged files in `lake` when given (what a run would read), else every file the interval's days can have."""
    if dialect not in DIALECTS:
        raise ScriptError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    if dialect == "redshift" and not lake_uri.startswith("s3://"):
        raise ScriptError(f"Redshift loads the staged zone with COPY from S3: give --lake s3://bucket/prefix (got {lake_uri})")
    lake_uri = lake_uri.rstrip("/")
    relations = staged_relations(lake, interval.days())
    replacements = [model_replacement(m, interval, dialect) for m in load_models()] + system_replacements(interval)
    gates = [f"/* {c.model}.{c.name} */ {sqlglot.transpile(c.violations_sql, read='duckdb', write=dialect)[0]}"
             for c in all_checks(interval, freshness_hours)]
    sections = RENDERERS[dialect](relations, replacements, lake_uri, iam_role)
    sections.insert(-1, ("quality gates: each query must return no rows, or the transaction is rolled back",
                         gates if dialect == "spark" else [*gates, "COMMIT"]))
    header = f"-- cryptopulse {dialect} script for days [{interval.start}, {interval.end}), staged zone {lake_uri}/staged\n"
    return header + "".join(f"\n-- == {title} ==\n" + "".join(f"{s};\n" for s in statements) for title, statements in sections)


BUILD = "build: replace the interval's partitions (one transaction)"
LOGS = "then the check results are appended to quality_results, and the run to pipeline_runs (created on first use)"


def _duckdb(relations: list[StagedRelation], replacements: list[Replacement], lake_uri: str, _: str) -> Sections:
    build = [s for r in replacements for s in replace_statements(r.table, r.select, r.partition, r.interval)]
    logs = [duckdb_engine.append_sql(table, columns, [])[0] for table, columns in SYSTEM_DDL.items()]
    return [
        ("load the staged zone", duckdb_engine.attach_sql(relations, lambda f: f"{lake_uri}/{f}")),
        (BUILD, [duckdb_engine.BEGIN, *build]),
        (LOGS, logs),
    ]


def _postgres(relations: list[StagedRelation], replacements: list[Replacement], lake_uri: str, _: str) -> Sections:
    load = [s if isinstance(s, str) else s.psql(lake_uri) for s in postgres_engine.load_plan(relations)]
    build = [s for r in replacements for s in postgres_engine.replace_sql(r.table, r.select, r.partition, r.interval)]
    return [
        ("set-up", postgres_engine.session_sql() + postgres_engine.writer_sql()),
        ("load the staged zone", load),
        (BUILD, ["BEGIN", *build]),
        (LOGS, [postgres_engine.log_table_sql(table, columns) for table, columns in SYSTEM_DDL.items()]),
    ]


def _redshift(relations: list[StagedRelation], replacements: list[Replacement], lake_uri: str, iam_role: str) -> Sections:
    """The PostgreSQL engine's statements in Redshift's dialect, the staged zone copied from S3 with an IAM role."""
    setup = [f"CREATE SCHEMA IF NOT EXISTS {s}" for s in postgres_engine.SCHEMAS] + postgres_engine.session_sql()
    plan = postgres_engine.load_plan(relations, "redshift")
    load = [s if isinstance(s, str) else _redshift_copy(s, relations, lake_uri, iam_role) for s in plan]
    build = ["BEGIN"]
    for r in replacements:
        create, delete, insert, analyze = postgres_engine.replace_sql(r.table, r.select, r.partition, r.interval)
        warning = _redshift_warning(r.select)
        # Redshift has no CREATE TABLE IF NOT EXISTS … AS: run it the first time only
        build += [f"/* first run only */ {warning}{create.replace(' IF NOT EXISTS', '')}", delete, warning + insert, analyze]
    logs = [postgres_engine.log_table_sql(table, columns, "redshift") for table, columns in SYSTEM_DDL.items()]
    return [("set-up", setup), ("load the staged zone", load), (BUILD, build), (LOGS, logs)]


def _redshift_copy(step: postgres_engine.CopyIn, relations: list[StagedRelation], lake_uri: str, iam_role: str) -> str:
    fmt = next(r.fmt for r in relations if r.name == step.table)
    options = {"parquet": "FORMAT AS PARQUET", "csv": "FORMAT AS CSV IGNOREHEADER 1", "json": "FORMAT AS JSON 'auto'"}[fmt]
    return f"COPY {postgres_engine.STAGING}.{step.table} FROM '{lake_uri}/{step.file}' IAM_ROLE '{iam_role}' {options}"


def _redshift_warning(select: str) -> str:
    return "".join(f"/* NOT RUNNABLE ON REDSHIFT: {why} */ " for construct, why in REDSHIFT_GAPS.items() if construct in select)


def _spark(relations: list[StagedRelation], replacements: list[Replacement], lake_uri: str, _: str) -> Sections:
    """Spark SQL doing what the Spark engine does with DataFrames: only rows inside the interval are written, and
    they replace the interval's partitions (the engine also removes a replaced day that came out empty)."""
    load = [_spark_view(r, [f"{lake_uri}/{f}" for f in r.files]) for r in relations]
    load += [f"CREATE OR REPLACE TEMPORARY VIEW {name} AS SELECT * FROM (VALUES {values_sql(rows)}) AS t({', '.join(header)})"
             for name, (header, rows) in seeds().items()]
    build = ["SET spark.sql.sources.partitionOverwriteMode = dynamic"]
    for r in replacements:
        partitioned = f" PARTITIONED BY ({r.partition})" if r.partition else ""
        create = replace_statements(r.table, r.select, r.partition, r.interval)[0]
        build.append(create.replace(" AS SELECT", f" USING parquet{partitioned} AS SELECT", 1))
        rows = f"SELECT * FROM ({r.select}) AS m WHERE {partition_filter(r.partition, r.interval)}" if r.interval else r.select
        build.append(f"INSERT OVERWRITE TABLE {r.table} {rows}")
    logs = [f"CREATE TABLE IF NOT EXISTS {table} ({column_ddl(columns, 'spark')}) USING parquet" for table, columns in SYSTEM_DDL.items()]
    return [("load the staged zone", load), (BUILD.replace(" (one transaction)", ""), build), (LOGS, logs)]


def _spark_view(relation: StagedRelation, uris: list[str]) -> str:
    """A temp view over the files; Spark's path globs take `{a,b}` alternatives, so one path covers all days."""
    schema = column_ddl(relation.columns, "spark")
    if not uris:
        nulls = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in (c.split(" ", 1) for c in schema.split(", ")))
        return f"CREATE OR REPLACE TEMPORARY VIEW {relation.name} AS SELECT {nulls} WHERE FALSE"
    paths = uris[0] if len(uris) == 1 else _glob_alternatives(uris)
    options = f"path '{paths}'" + (", header 'true'" if relation.fmt == "csv" else "")
    return f"CREATE OR REPLACE TEMPORARY VIEW {relation.name} ({schema}) USING {relation.fmt} OPTIONS ({options})"


def _glob_alternatives(uris: list[str]) -> str:
    """`…/date={2024-01-01,2024-01-02}/part-0.csv` for files that differ only in their `date=` folder."""
    prefixes = {u.split("date=")[0] for u in uris}
    suffixes = {u.split("date=")[1].split("/", 1)[1] for u in uris}
    if len(prefixes) == 1 and len(suffixes) == 1:
        days = ",".join(u.split("date=")[1].split("/", 1)[0] for u in uris)
        return f"{prefixes.pop()}date={{{days}}}/{suffixes.pop()}"
    return "{" + ",".join(uris) + "}"


RENDERERS = {"duckdb": _duckdb, "postgres": _postgres, "redshift": _redshift, "spark": _spark}

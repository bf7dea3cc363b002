"""Bulk data in and out of PostgreSQL through COPY: Arrow batches and CSV files in, query results out as Parquet.

Both directions use COPY's CSV format, converted in C by pyarrow (no Python loop over rows): an empty
unquoted field is NULL, a quoted one an empty string, and doubles are printed shortest-exact both ways.
Run as a program (`python3 -m cryptopulse.engines.pgcopy TABLE LAKE FILE`) it prints the CSV rows the engine
streams for one staged file: what psql's `\\copy … FROM PROGRAM` in `cryptopulse sql-render`'s script reads.
"""

from __future__ import annotations

import csv
import io
import json
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator
from itertools import groupby
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cryptopulse.lake import Lake
from cryptopulse.sqltext import column_names
from cryptopulse.staging.zone import STAGED_COLUMNS

PARQUET_BATCH_ROWS = 65_536
ROW_GROUP_ROWS = 122_880  # DuckDB's default, so files from either engine look alike
CSV_OUT = pacsv.WriteOptions(include_header=False)
CSV_CHUNK = 1 << 20
# Part of a COPY's CSV input: the columns it holds, in order, and the bytes.
Chunk = tuple[tuple[str, ...], bytes | memoryview]
# PostgreSQL type name → Arrow type of the published Parquet column (the types DuckDB writes for the same model);
# numeric(p, s) becomes decimal128(p, s).
ARROW_TYPES = {
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "float4": pa.float32(),
    "float8": pa.float64(),
    "bool": pa.bool_(),
    "text": pa.string(),
    "varchar": pa.string(),
    "bpchar": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
}


class UnsupportedType(Exception):
    """A result column whose PostgreSQL type has no Parquet counterpart here."""


def copy_runs(con: psycopg.Connection, statement: Callable[[tuple[str, ...]], str], chunks: Iterable[Chunk]) -> None:
    """Stream CSV chunks through `COPY … FROM STDIN WITH (FORMAT csv)`: one COPY (`statement(columns)`) for each run
    of chunks in the same columns, so that many files cost one round trip, not one each."""
    for columns, run in groupby(chunks, key=lambda chunk: chunk[0]):
        with con.cursor() as cur, cur.copy(statement(columns).encode()) as copy:
            for _, data in run:
                copy.write(data)


def staged_csv(stream: io.BufferedIOBase, name: str, columns: tuple[str, ...]) -> Iterator[Chunk]:
    """One staged file as COPY's CSV, in chunks with the columns they hold: a CSV file as it is (in its header's
    columns, ending with a line break, so the next file's rows can follow), others converted from Arrow batches
    of `columns`."""
    if not name.endswith(".csv"):
        for batch in staged_batches(stream, name, columns):
            yield columns, csv_bytes(batch)
        return
    header, last = read_csv_header(stream), b"\n"
    while data := stream.read(CSV_CHUNK):
        yield header, data
        last = data[-1:]
    if last != b"\n":
        yield header, b"\n"


def read_csv_header(stream: io.BufferedIOBase) -> tuple[str, ...]:
    """The column names in the header line of a CSV file (the stream is left at the first row)."""
    return tuple(next(csv.reader([stream.readline().decode()])))


def csv_bytes(batch: pa.RecordBatch) -> memoryview:
    """A batch as COPY's CSV: no header; an empty unquoted field is NULL, a quoted one an empty string."""
    buffer = io.BytesIO()
    pacsv.write_csv(batch, buffer, CSV_OUT)
    return buffer.getbuffer()


def staged_batches(stream: io.BufferedIOBase, name: str, columns: tuple[str, ...]) -> Iterator[pa.RecordBatch]:
    """The rows of a staged Parquet or JSON (one record) file as Arrow batches of `columns` (a missing one all NULL)."""
    if name.endswith(".json"):
        tables: Iterable[pa.RecordBatch] = pa.Table.from_pylist([json.loads(stream.read())]).to_batches()
    else:
        parquet = pq.ParquetFile(stream)
        present = [c for c in columns if c in parquet.schema_arrow.names]
        tables = parquet.iter_batches(PARQUET_BATCH_ROWS, columns=present)
    for batch in tables:
        yield pa.RecordBatch.from_arrays(
            [batch.column(c) if c in batch.schema.names else pa.nulls(batch.num_rows) for c in columns], names=list(columns)
        )


def result_schema(con: psycopg.Connection, query: str) -> pa.Schema:
    """The Arrow schema of `query`'s result, from PostgreSQL's description of it (no rows read)."""
    with con.cursor() as cur:
        cur.execute(f"SELECT * FROM ({query}) AS q LIMIT 0")
        fields = []
        for column in cur.description or ():
            info = con.adapters.types.get(column.type_code)
            name = info.name if info else str(column.type_code)
            if name == "numeric" and column.precision is not None:
                fields.append(pa.field(column.name, pa.decimal128(column.precision, column.scale or 0)))
                continue
            if name not in ARROW_TYPES:
                raise UnsupportedType(f"column {column.name}: PostgreSQL type {name} (without a precision) cannot be published as Parquet")
            fields.append(pa.field(column.name, ARROW_TYPES[name]))
    return pa.schema(fields)


def stream_batches(con: psycopg.Connection, query: str, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """Rows of `query` as Arrow batches, streamed with COPY (…) TO STDOUT and parsed by pyarrow."""
    convert = pacsv.ConvertOptions(
        column_types=schema,
        true_values=["t"],
        false_values=["f"],
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    with con.cursor() as cur, cur.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy:
        stream = io.BufferedReader(_CopyStream(copy), buffer_size=1 << 20)
        if not stream.peek(1):
            return  # no rows
        yield from pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(column_names=schema.names, use_threads=False, block_size=8 << 20),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=convert,
        )


class _CopyStream(io.RawIOBase):
    """A readable file over the chunks of a COPY … TO STDOUT."""

    def __init__(self, copy: psycopg.Copy) -> None:
        self._copy = copy
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if not self._pending:
            self._pending = memoryview(self._copy.read())
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def write_parquet(batches: Iterable[pa.RecordBatch], schema: pa.Schema, folder: Path, partition_by: str | None) -> None:
    """Write batches as `folder/part-0.parquet`, or as `folder/<col>=<value>/part-0.parquet` per value of
    `partition_by` (batches sorted by it; the column itself lives in the folder name, as DuckDB writes it)."""
    if partition_by is None:
        folder.mkdir(parents=True, exist_ok=True)
        with _Writer(folder / "part-0.parquet", schema) as writer:
            for batch in batches:
                writer.write(batch)
        return
    index = schema.get_field_index(partition_by)
    file_schema = schema.remove(index)
    current, writer = None, None
    try:
        for batch in batches:
            for value, part in _runs(batch, index):
                if writer is None or value != current:
                    if writer is not None:
                        writer.close()
                    current = value
                    path = folder / f"{partition_by}={'NULL' if value is None else value}" / "part-0.parquet"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    writer = _Writer(path, file_schema)
                writer.write(part.remove_column(index))
    finally:
        if writer is not None:
            writer.close()


def _runs(batch: pa.RecordBatch, index: int) -> Iterator[tuple[object, pa.RecordBatch]]:
    """(value, slice) for each run of equal values of column `index` in `batch`."""
    encoded = pc.run_end_encode(batch.column(index))
    start = 0
    for value, end in zip(encoded.values.to_pylist(), encoded.run_ends.to_pylist()):
        yield value, batch.slice(start, end - start)
        start = end


class _Writer:
    """A Parquet file written in row groups of ROW_GROUP_ROWS (zstd), whatever the size of incoming batches."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        self._schema = schema
        self._pending: list[pa.RecordBatch] = []
        self._rows = 0

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, batch: pa.RecordBatch) -> None:
        self._pending.append(batch)
        self._rows += batch.num_rows
        if self._rows >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._writer.write_table(pa.Table.from_batches(self._pending, self._schema), row_group_size=ROW_GROUP_ROWS)
        self._pending, self._rows = [], 0

    def close(self) -> None:
        self._flush()
        self._writer.close()


def print_staged_csv(table: str, lake_uri: str, file: str) -> None:
    """Print one staged file as the CSV rows the PostgreSQL engine streams into `table` (what psql's `\\copy … FROM
    PROGRAM` in `cryptopulse sql-render --dialect postgres` runs)."""
    lake, columns, out = Lake(lake_uri), tuple(column_names(STAGED_COLUMNS[table])), sys.stdout.buffer
    with lake.fs.open(lake.path(file), "rb") as stream:
        for held, data in staged_csv(stream, file, columns):
            if held != columns:
                raise SystemExit(f"{file}: columns {', '.join(held)}; expected {', '.join(columns)}")
            out.write(data)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(f"usage: python3 -m cryptopulse.engines.pgcopy TABLE LAKE FILE (got {shlex.join(sys.argv[1:])})")
    print_staged_csv(*sys.argv[1:])

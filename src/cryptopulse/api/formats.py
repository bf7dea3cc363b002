"""Rows (a pyarrow Table) as a response body: JSON (the default), CSV or Parquet, chosen by `?format=` or Accept."""

from __future__ import annotations

import io
import json
from enum import StrEnum

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


class Format(StrEnum):
    json = "json"
    csv = "csv"
    parquet = "parquet"


MEDIA_TYPES = {
    Format.json: "application/json",
    Format.csv: "text/csv; charset=utf-8",
    Format.parquet: "application/vnd.apache.parquet",
}
ACCEPTED = {"text/csv": Format.csv, "application/vnd.apache.parquet": Format.parquet, "application/x-parquet": Format.parquet}
FORMULA_START = r"^[=+\-@\t\r]"  # a spreadsheet would run such a cell as a formula


def negotiate(requested: Format | None, accept: str | None) -> Format:
    """`?format=` wins; else the first Accept media type we serve; else JSON."""
    if requested is not None:
        return requested
    for part in (accept or "").split(","):
        chosen = ACCEPTED.get(part.split(";")[0].strip().lower())
        if chosen is not None:
            return chosen
    return Format.json


def render(table: pa.Table, fmt: Format, envelope: dict[str, object]) -> bytes:
    """The body: JSON `{**envelope, "count", "rows"}`, or the bare rows as CSV or Parquet."""
    if fmt is Format.parquet:
        sink = io.BytesIO()
        pq.write_table(table, sink)
        return sink.getvalue()
    plain = _plain(table)
    if fmt is Format.csv:
        sink = io.BytesIO()
        pacsv.write_csv(_defused(plain), sink)
        return sink.getvalue()
    return json_bytes({**envelope, "count": plain.num_rows, "rows": plain.to_pylist()})


def json_bytes(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _plain(table: pa.Table) -> pa.Table:
    """JSON-ready columns: timestamps as ISO 8601 UTC strings, dates as ISO strings, decimals as floats, NaN as null."""
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_timestamp(kind):
            column = pc.strftime(column.cast(pa.timestamp("s"), safe=False), format="%Y-%m-%dT%H:%M:%SZ")
        elif pa.types.is_date(kind):
            column = pc.strftime(column, format="%Y-%m-%d")
        elif pa.types.is_decimal(kind):
            column = column.cast(pa.string()).cast(pa.float64())  # via text: exact to the decimal's digits
        if pa.types.is_floating(column.type):
            column = pc.if_else(pc.is_finite(column), column, None)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _defused(table: pa.Table) -> pa.Table:
    """CSV cells that a spreadsheet would run as formulas get a leading `'`."""
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pc.if_else(pc.match_substring_regex(column, FORMULA_START), pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)

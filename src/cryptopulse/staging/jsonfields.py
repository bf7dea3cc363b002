"""Typed fields of raw JSON records: every value read as text in one parse, then each as its type, or the first field
that does not fit it."""

from __future__ import annotations

import json
from dataclasses import dataclass

# JSON types (as `json_type` names them) that no text field accepts: a string or a number is read as text.
NOT_TEXT = "('OBJECT', 'ARRAY', 'BOOLEAN')"


@dataclass(frozen=True)
class Field:
    """One field of a record: its dotted path inside the record and the type it must convert to.

    `type` is VARCHAR (a JSON string or number), BIGINT or DOUBLE (a number, or a string holding one), or LIST (a JSON
    array of `element` records)."""

    path: str  # e.g. "public_metrics.like_count"
    type: str = "VARCHAR"
    element: RecordType | None = None

    @property
    def is_text(self) -> bool:
        return self.type == "VARCHAR"

    def read_as(self) -> object:
        """How `from_json` reads the field: text, or a list of element records."""
        return [self.element.structure()] if self.element else "VARCHAR"

    def doubt_sql(self, v: str) -> str:
        """SQL: the field, as read into struct `v`, may not fit (only then its JSON type needs looking up)."""
        text = _text(v, self.path)
        if self.is_text:  # read as text, an object, a list or a boolean looks like `{…}`, `[…]`, `true`
            return f"(left({text}, 1) IN ('{{', '[') OR {text} IN ('true', 'false'))"
        if self.type == "LIST":
            return f"{text} IS NULL"
        return f"({text} IS NOT NULL AND try_cast({text} AS {self.type}) IS NULL)"

    def check_sql(self, record: str, v: str) -> str:
        """A CASE branch naming this field when its value in JSON `record` (read into struct `v`) does not fit its type."""
        doubt, reason = self.doubt_sql(v), f"'bad_type:{self.path}'"
        if self.is_text:
            return f"WHEN {doubt} AND json_type({record}, '$.{self.path}') IN {NOT_TEXT} THEN {reason}"
        if self.type == "LIST":
            return f"WHEN {doubt} AND coalesce(json_type({record}, '$.{self.path}'), 'NULL') NOT IN ('ARRAY', 'NULL') THEN {reason}"
        return f"WHEN {doubt} THEN {reason}"


@dataclass(frozen=True)
class RecordType:
    """The fields a dataset keeps from one kind of JSON record (an X page or tweet, a Reddit listing or post).

    `extra` is more `from_json` structure, read without checks (an X page's users, which only name authors)."""

    fields: tuple[Field, ...]
    extra: tuple[tuple[str, object], ...] = ()

    @property
    def containers(self) -> list[str]:
        """Every object path that holds a field (`public_metrics`, `data`), outermost first."""
        found: list[str] = []
        for f in self.fields:
            parts = f.path.split(".")[:-1]
            for i in range(1, len(parts) + 1):
                if ".".join(parts[:i]) not in found:
                    found.append(".".join(parts[:i]))
        return found

    def structure(self) -> dict[str, object]:
        """The `from_json` structure: values read as text, so that no value can make the read fail."""
        tree: dict[str, object] = dict(self.extra)
        for f in self.fields:
            *parents, leaf = f.path.split(".")
            node = tree
            for p in parents:
                node = node.setdefault(p, {})  # type: ignore[assignment]
            node[leaf] = f.read_as()  # type: ignore[index]
        return tree

    def parse_sql(self, record: str) -> str:
        """The select item `v`: JSON column `record` read with `structure`."""
        return f"from_json({record}, '{json.dumps(self.structure())}') AS v"

    def value_sql(self, path: str, v: str = "v") -> str:
        """The typed value of the field at `path` of struct `v` (NULL when absent, null or not convertible)."""
        field = next(f for f in self.fields if f.path == path)
        text = _text(v, path)
        return text if field.is_text or field.type == "LIST" else f"try_cast({text} AS {field.type})"

    def _all_null(self, v: str, prefix: str = "") -> str:
        """SQL: every field under `prefix` of struct `v` is null (an object given as anything else reads so)."""
        return " AND ".join(f"{_text(v, f.path)} IS NULL" for f in self.fields if f.path.startswith(prefix))

    def doubt_sql(self, v: str) -> str:
        """SQL: a record read into struct `v` may not fit its type; only such records need their JSON for `reason_sql`."""
        doubts = [f"{v} IS NULL", f"({self._all_null(v)})", *(f"({self._all_null(v, c + '.')})" for c in self.containers)]
        return " OR ".join(doubts + [f.doubt_sql(v) for f in self.fields])

    def reason_sql(self, record: str, v: str = "v") -> str:
        """`not_an_object`, `bad_type:<path>` for the first field whose value does not fit, else NULL.

        `v` is `record` read with `structure`. A missing or null field fits (other rules judge required fields).
        JSON types are looked up only for doubtful values, so a well-formed record is parsed once; a NULL `record`
        (a record known to fit) is never judged unfit."""
        whens = [f"WHEN left({record}, 1) <> '{{' AND coalesce(json_type({record}), '') <> 'OBJECT' THEN 'not_an_object'"]
        whens += [
            f"WHEN {self._all_null(v, c + '.')} AND coalesce(json_type({record}, '$.{c}'), 'NULL') NOT IN ('OBJECT', 'NULL') "
            f"THEN 'bad_type:{c}'"
            for c in self.containers
        ]
        whens += [f.check_sql(record, v) for f in self.fields]
        return "CASE " + " ".join(whens) + " END"


def _text(v: str, path: str) -> str:
    """The field at `path` of struct `v`, as read with `RecordType.structure`."""
    return v + "." + ".".join(f'"{p}"' for p in path.split("."))

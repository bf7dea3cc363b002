"""Model files: each states its grain, renders for every target dialect, and names only known tables."""

from __future__ import annotations

import pytest
import sqlglot

from cryptopulse.interval import Interval
from cryptopulse.models import load_models, render
from cryptopulse.models.registry import SEEDS, STAGED_RELATIONS

MODELS = load_models()
IV = Interval.parse("2024-01-01", "2024-01-03")


def test_models_come_after_what_they_read():
    seen: set[str] = set()
    for m in MODELS:
        assert set(m.depends_on) <= seen, m.name
        seen.add(m.name)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_grain_is_one_sentence_starting_with_one_row(model):
    assert model.grain.startswith("one row per")


# Redshift has no UNNEST; its rendering (and golden files) belong to the server-path work.
@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_model_renders_and_reparses_in_each_dialect(model, dialect):
    sql = render(model.sql, dialect, IV)
    assert ":interval_start" not in sql
    if ":interval_start" in model.sql:
        assert "2024-01-01 00:00:00" in sql
    sqlglot.parse_one(sql, read=dialect)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_models_read_only_models_staged_relations_and_seeds(model):
    tables = {t.name for t in sqlglot.parse_one(model.sql, read="duckdb").find_all(sqlglot.exp.Table)}
    ctes = {c.alias for c in sqlglot.parse_one(model.sql, read="duckdb").find_all(sqlglot.exp.CTE)}
    tables.discard("")  # a table function such as generate_series
    known = {m.name for m in MODELS} | set(STAGED_RELATIONS) | set(SEEDS) | ctes
    assert tables <= known, tables - known

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


def test_a_coins_phrase_found_inside_longer_tokens_still_counts_when_it_hides_its_own_word():
    """'pepe coin' inside 'xpepe coin!' is a phrase mention; its word 'pepe' is hidden but was never found as a token,
    so nothing is taken off the phrase (hidden words count only against words found)."""
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE fct_post (post_id VARCHAR, source VARCHAR, time_key BIGINT, text VARCHAR, date DATE)")
    con.execute("INSERT INTO fct_post VALUES ('1', 'x', 1, 'xpepe coin!', DATE '2024-01-01'), "
                "('2', 'x', 1, 'pepe coin and pepe', DATE '2024-01-01'), ('3', 'x', 1, 'pepe', DATE '2024-01-01')")
    con.execute("CREATE TABLE dim_coin_alias AS SELECT * FROM (VALUES ('pepe coin', 'pepe', 'phrase'), ('pepe', 'pepe', 'symbol')) "
                "AS t(alias, coin_id, kind)")
    bridge = next(m for m in MODELS if m.name == "bridge_post_coin")
    rows = con.execute(f"SELECT post_id, coin_id, mentions FROM ({render(bridge.sql, 'duckdb', IV)}) ORDER BY post_id").fetchall()
    assert rows == [("1", "pepe", 1), ("2", "pepe", 2), ("3", "pepe", 1)]

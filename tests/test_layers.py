"""Build layers: every model in exactly one, in an order that builds each model after what it reads."""

from __future__ import annotations

import pytest

from cryptopulse.models import load_models
from cryptopulse.models.layers import LAYERS, LayerError, layer_of, models_by_layer, models_in
from cryptopulse.models.registry import Model


def test_the_layers_hold_every_model_once_and_each_after_what_it_reads():
    ordered = [m.name for m in models_in(*LAYERS)]
    assert sorted(ordered) == sorted(m.name for m in load_models())
    for model in load_models():
        assert all(ordered.index(dep) < ordered.index(model.name) for dep in model.depends_on), model.name


def test_a_layer_comes_from_the_name_prefix_unless_the_header_says():
    layers = models_by_layer()
    assert {"dim_coin", "dim_time"} <= {m.name for m in layers["dimensions"]}
    assert {"fct_post", "bridge_post_coin"} <= {m.name for m in layers["facts"]}
    assert "agg_coin_monthly" in {m.name for m in layers["aggregates"]}
    assert layer_of(Model("mart_x", "select 1", "g", "table", layer="aggregates")) == "aggregates"


def test_a_model_without_a_layer_is_a_clear_error():
    with pytest.raises(LayerError, match=r'model enr_scores: no build layer; add layer = "dimensions"'):
        layer_of(Model("enr_scores", "select 1", "g", "table"))
    with pytest.raises(LayerError, match="unknown layer"):
        models_in("marts")

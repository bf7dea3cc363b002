"""The models grouped in build layers (dimensions → facts → aggregates), for runs that build one layer per task.

A model's layer is its header's `layer`, else what its name's prefix says (`dim_`, `fct_`, `bridge_`, `agg_`).
Each layer reads only its own and earlier layers, so building them in order is building every model in order.
"""

from __future__ import annotations

import functools

from cryptopulse.models.registry import Model, load_models

LAYERS = ("dimensions", "facts", "aggregates")
LAYER_OF_PREFIX = {"dim": "dimensions", "fct": "facts", "bridge": "facts", "agg": "aggregates"}


class LayerError(ValueError):
    """A model without a layer, or one that reads a model of a later layer."""


def layer_of(model: Model) -> str:
    layer = model.layer or LAYER_OF_PREFIX.get(model.name.split("_", 1)[0])
    if layer not in LAYERS:
        raise LayerError(
            f"model {model.name}: no build layer; add layer = \"dimensions\" | \"facts\" | \"aggregates\" to its header"
        )
    return layer


@functools.cache
def models_by_layer() -> dict[str, tuple[Model, ...]]:
    """Each layer's models in dependency order; LayerError when a model reads one of a later layer."""
    rank = {m.name: LAYERS.index(layer_of(m)) for m in load_models()}
    for model in load_models():
        later = [d for d in model.depends_on if rank[d] > rank[model.name]]
        if later:
            raise LayerError(f"model {model.name} ({layer_of(model)}) reads {', '.join(later)} of a later layer")
    return {layer: tuple(m for m in load_models() if layer_of(m) == layer) for layer in LAYERS}


def models_in(*layers: str) -> tuple[Model, ...]:
    """The models of `layers`, in dependency order."""
    unknown = [layer for layer in layers if layer not in LAYERS]
    if unknown:
        raise LayerError(f"unknown layer(s) {', '.join(unknown)}; layers are {', '.join(LAYERS)}")
    return tuple(m for layer in LAYERS if layer in layers for m in models_by_layer()[layer])

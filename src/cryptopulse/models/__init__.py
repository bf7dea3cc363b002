"""Warehouse models: one SQL file per table (DuckDB dialect), with grain and checks in its header."""

from cryptopulse.models.registry import Model, load_models, render

__all__ = ["Model", "load_models", "render"]

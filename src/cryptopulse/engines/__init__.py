"""Engines that run the warehouse models: DuckDB (embedded default); others plug in behind the same interface."""

from cryptopulse.engines.base import Engine, EngineError, open_engine

__all__ = ["Engine", "EngineError", "open_engine"]

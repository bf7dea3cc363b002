"""The factory that picks the warehouse engine the settings name (the interface: `cryptopulse.engine_protocol`)."""

from __future__ import annotations

from cryptopulse.config import Settings
from cryptopulse.engine_protocol import Engine, EngineError

__all__ = ["Engine", "EngineError", "open_engine"]


def open_engine(settings: Settings, read_only: bool = False) -> Engine:
    """The engine the settings name; a `postgresql://…` warehouse selects PostgreSQL (engine "duckdb" or "postgres")."""
    if settings.engine in ("duckdb", "postgres") and settings.warehouse.startswith(("postgresql://", "postgres://")):
        from cryptopulse.engines.postgres import PostgresEngine

        return PostgresEngine(settings, read_only=read_only)
    if settings.engine == "postgres":
        raise EngineError(f"engine postgres needs CRYPTOPULSE_WAREHOUSE=postgresql://user@host:port/db, got {settings.warehouse}")
    if settings.engine == "duckdb":
        from cryptopulse.engines.duckdb import DuckDBEngine

        return DuckDBEngine(settings, read_only=read_only)
    if settings.engine == "spark":
        from cryptopulse.engines.spark import SparkEngine

        return SparkEngine(settings, read_only=read_only)
    raise EngineError(f"unknown engine '{settings.engine}' (CRYPTOPULSE_ENGINE); this build supports: duckdb, postgres, spark")

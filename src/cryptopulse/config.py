"""Settings from environment variables (`CRYPTOPULSE_*`) over one optional TOML file."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ENV_PREFIX = "CRYPTOPULSE_"
DEFAULT_CONFIG_FILE = "cryptopulse.toml"


class ConfigError(Exception):
    """A configuration value or file that cannot be used."""


class Settings(BaseModel):
    """Where the lake and warehouse live and how the engine runs. Secrets never live here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lake: str = Field("./data/lake", description="Lake root: a folder or any fsspec URL (s3://bucket/prefix).")
    warehouse: str = Field("./data/warehouse.duckdb", description="DuckDB file path (embedded default).")
    engine: str = Field("duckdb", description="Engine that runs the models.")
    threads: int = Field(0, description="Engine threads; 0 = all cores.")
    memory_limit: str = Field("", description="Engine memory limit, e.g. '8GB'; empty = engine default.")
    temp_directory: str = Field("", description="Where the engine spills to disk; empty = engine default.")
    freshness_hours: int = Field(36, description="A fact is stale if its newest hour is older than this before the interval end.")


def load_settings(config_file: str | os.PathLike[str] | None = None, **overrides: object) -> Settings:
    """Settings from defaults ← TOML file (`[cryptopulse]` table or top level) ← environment ← overrides."""
    values: dict[str, object] = {}
    path = Path(config_file or os.environ.get(ENV_PREFIX + "CONFIG", DEFAULT_CONFIG_FILE))
    if config_file is not None and not path.exists():
        raise ConfigError(f"{path}: config file not found")
    if path.exists():
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: not valid TOML ({e})") from e
        values.update(data.get("cryptopulse", data))
    for name in Settings.model_fields:
        env = os.environ.get(ENV_PREFIX + name.upper())
        if env not in (None, ""):
            values[name] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"setting '{field}': {err['msg']} (from {path if path.exists() else 'environment'})") from e

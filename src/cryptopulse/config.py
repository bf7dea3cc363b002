"""Settings from environment variables (`CRYPTOPULSE_*`) over one optional TOML file, validated when read."""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_PREFIX = "CRYPTOPULSE_"
DEFAULT_CONFIG_FILE = "cryptopulse.toml"
ENGINES = ("duckdb", "postgres", "spark")
# a size every engine understands: DuckDB's memory_limit and the JVM's -Xmx ('8GB', '512 MiB', '2g')
SIZE = re.compile(r"\s*\d+\s*[kmgt]i?b?\s*", re.IGNORECASE)


class ConfigError(Exception):
    """A configuration value or file that cannot be used."""


class Settings(BaseModel):
    """Where the lake and warehouse live and how the engine runs. Secrets never live here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lake: str = Field("./data/lake", description="Lake root: a folder or any fsspec URL (s3://bucket/prefix).")
    warehouse: str = Field("./data/warehouse.duckdb", description="DuckDB file path (embedded default).")
    engine: str = Field("duckdb", description="Engine that runs the models.")
    threads: int = Field(0, ge=0, description="Engine threads; 0 = all cores.")
    memory_limit: str = Field("", description="Engine memory limit, e.g. '8GB'; empty = engine default.")
    temp_directory: str = Field("", description="Where the engine spills to disk; empty = engine default.")
    freshness_hours: int = Field(36, gt=0, description="A fact is stale if its newest hour is older than this before the interval end.")
    plausible_since: dt.date = Field(
        dt.date(2009, 1, 3), description="Records dated before this day (or after the day after the run) are quarantined."
    )

    @field_validator("lake", "warehouse", "temp_directory")
    @classmethod
    def _usable_path(cls, value: str) -> str:
        if "'" in value:
            raise ValueError(f"{value!r} contains a single quote ('), which cryptopulse does not support in paths")
        if "://" not in value and value:
            _no_file_above(Path(value))
        return value

    @field_validator("lake", "warehouse")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("lake", "temp_directory")
    @classmethod
    def _a_folder(cls, value: str) -> str:
        if "://" not in value and value and Path(value).exists() and not Path(value).is_dir():
            raise ValueError(f"{value} is a file, not a folder")
        return value

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if value not in ENGINES:
            raise ValueError(f"unknown engine {value!r}; choose one of {', '.join(ENGINES)}")
        return value

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, value: str) -> str:
        if value and not SIZE.fullmatch(value):
            raise ValueError(f"{value!r} is not a size such as '8GB' or '512MB'")
        return value


def _no_file_above(path: Path) -> None:
    """A folder path must not run through a regular file (`/etc/passwd/lake`)."""
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"{path} lies under {parent}, which is a file, not a folder")
            return


def load_settings(config_file: str | os.PathLike[str] | None = None, **overrides: object) -> Settings:
    """Settings from defaults ← TOML file (`[cryptopulse]` table or top level) ← environment ← overrides."""
    path, values = _read_config_file(config_file)
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
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown setting (known: {', '.join(Settings.model_fields)})"
        raise ConfigError(f"setting '{field}': {msg} (from {_source(field, path, overrides)})") from None


def _source(field: str, path: Path | None, overrides: dict[str, object]) -> str:
    """Where a setting's value came from: the command line, the environment, the config file or the defaults."""
    if overrides.get(field) is not None:
        return f"--{field.replace('_', '-')}"
    if os.environ.get(ENV_PREFIX + field.upper()):
        return f"${ENV_PREFIX}{field.upper()}"
    return str(path) if path else "the defaults"


def _read_config_file(config_file: str | os.PathLike[str] | None) -> tuple[Path | None, dict[str, object]]:
    """The TOML file's settings: the one named (`--config`, then $CRYPTOPULSE_CONFIG) must exist; the default may not."""
    named = config_file or os.environ.get(ENV_PREFIX + "CONFIG") or None
    path = Path(named or DEFAULT_CONFIG_FILE)
    if not path.exists():
        if named is None:
            return None, {}
        via = "--config" if config_file else f"${ENV_PREFIX}CONFIG"
        raise ConfigError(f"{path}: config file not found (named by {via})")
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a TOML config file")
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config file ({e.strerror})") from None
    section = data.get("cryptopulse", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [cryptopulse] must be a table of settings")
    return path, dict(section)

"""The read API's settings, from `CRYPTOPULSE_API_*` environment variables, validated when read."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cryptopulse.config import ConfigError

ENV_PREFIX = "CRYPTOPULSE_API_"


class ApiSettings(BaseModel):
    """Access, limits and freshness of the read API. Keys live in the lake, never here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    anonymous: bool = Field(False, description="Serve /v1 without a key (rate-limited per client address).")
    rate: float = Field(20.0, gt=0, description="Requests per second each key may make, on average (token bucket refill).")
    burst: int = Field(60, ge=1, description="Requests a key may make at once (token bucket size).")
    max_range_days: int = Field(366, ge=1, le=36600, description="Longest date range one request may ask for.")
    max_page_size: int = Field(1000, ge=1, le=100_000, description="Most posts one page may hold.")
    query_timeout: float = Field(10.0, gt=0, description="Seconds a query may run before it is interrupted (503).")
    cors_origins: tuple[str, ...] = Field((), description="Origins allowed by CORS, comma-separated; '*' for any.")
    version_check: float = Field(1.0, ge=0, description="Seconds between checks for a newly published version.")
    key_refresh: float = Field(5.0, ge=0, description="Seconds between re-reads of the key file (revocations apply within).")
    threads: int = Field(1, ge=0, description="DuckDB threads per query; 0 = every core.")
    memory_tables: tuple[str, ...] = Field(
        ("dim_coin", "fct_coin_hourly", "agg_coin_monthly", "mart_coin_daily", "mart_coin_hourly", "analysis_lead_lag", "quality_results"),
        description="Published tables each worker copies into memory when it opens a version, comma-separated: small "
        "tables stored as one file per day answer much faster from memory; the posts stay on Parquet.",
    )

    @field_validator("cors_origins", "memory_tables", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return tuple(v.strip() for v in value.split(",") if v.strip()) if isinstance(value, str) else value


def load_api_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> ApiSettings:
    """ApiSettings from defaults ← `CRYPTOPULSE_API_<FIELD>` variables ← overrides; one-line ConfigError if invalid."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name in ApiSettings.model_fields:
        value = environ.get(ENV_PREFIX + name.upper())
        if value not in (None, ""):
            values[name] = value
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return ApiSettings(**values)
    except ValidationError as e:
        err = e.errors()[0]
        name = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"setting {ENV_PREFIX}{name.upper()}: {err['msg']} (got {err.get('input')!r})") from None

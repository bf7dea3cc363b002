"""Options of the Airflow DAG beyond `Settings`: the schedule (read at parse time) and each run's ingest options.

A run option `name` comes from the environment variable `CRYPTOPULSE_<NAME>`, else (inside a task) from the
Airflow Variable `cryptopulse_<name>`, else its default. Schedule options come from `CRYPTOPULSE_AIRFLOW_<NAME>`
only: the DAG file is parsed often, and reading Variables there would query the metadata database each time.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cryptopulse.config import ENV_PREFIX, ConfigError

Lookup = Callable[[str], "str | None"]  # option name → its raw text, or None when unset
SCHEDULE_PREFIX = ENV_PREFIX + "AIRFLOW_"
M = TypeVar("M", bound=BaseModel)


class ScheduleOptions(BaseModel):
    """How the DAG is scheduled and retried."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start_date: dt.date = Field(dt.date(2022, 12, 1), description="First day the schedule processes.")
    end_date: dt.date | None = Field(None, description="Last day the schedule processes (none: no end).")
    catchup: bool = Field(False, description="Create runs for every missed day since start_date when the DAG is switched on.")
    retries: int = Field(3, ge=2, description="Retries per task (exponential backoff).")
    retry_delay_s: float = Field(300.0, gt=0, description="First retry delay; doubled on each further retry.")
    max_retry_delay_s: float = Field(3600.0, gt=0, description="Longest retry delay.")

    @property
    def dag_start(self) -> dt.datetime:
        """The DAG's start_date: midnight of the first day (its data interval starts at 07:00 that day)."""
        return dt.datetime.combine(self.start_date, dt.time(), dt.UTC)

    @property
    def dag_end(self) -> dt.datetime | None:
        """The DAG's end_date: 07:00 of the last day, where that day's data interval starts."""
        return dt.datetime.combine(self.end_date, dt.time(7), dt.UTC) if self.end_date else None


class RunOptions(BaseModel):
    """What one run ingests and how."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    offline: bool = Field(False, description="Land the synthetic reference dataset instead of calling the APIs.")
    coins: tuple[str, ...] = Field((), description="CoinGecko ids to track (comma-separated).")
    top: int = Field(10, ge=0, description="Also track the N largest coins by market cap (0: only `coins`).")
    subreddits: tuple[str, ...] = Field(("CryptoCurrency", "Bitcoin"), description="Subreddits to read (comma-separated).")
    reference: str = Field("./data/reference", description="Lake holding the synthetic reference dataset (generated on first use).")
    reference_scale: float = Field(0.05, gt=0, description="Scale of a generated reference dataset (0.05: 5 coins, 104 days).")
    reference_seed: int = Field(42, description="Seed of a generated reference dataset.")
    http_attempts: int = Field(3, ge=1, description="Attempts per HTTP request inside one task try (Airflow retries the task).")
    calls_per_minute: float | None = Field(None, gt=0, description="Client-side rate limit per source (default: the source's own).")

    @field_validator("coins", "subreddits", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return tuple(v.strip() for v in value.split(",") if v.strip()) if isinstance(value, str) else value


def env_lookup(name: str) -> str | None:
    return os.environ.get(ENV_PREFIX + name.upper()) or None


def read_run_options(lookup: Lookup = env_lookup) -> RunOptions:
    values = {name: text for name in RunOptions.model_fields if (text := lookup(name)) is not None}
    return _validated(RunOptions, values, lambda name: f"{ENV_PREFIX}{name.upper()} or Variable cryptopulse_{name}")


def read_schedule_options() -> ScheduleOptions:
    values = {name: text for name in ScheduleOptions.model_fields if (text := os.environ.get(SCHEDULE_PREFIX + name.upper()))}
    return _validated(ScheduleOptions, values, lambda name: SCHEDULE_PREFIX + name.upper())


def daily_dag_arguments(schedule: ScheduleOptions, tags: list[str]) -> dict[str, Any]:
    """`DAG(...)` arguments every cryptopulse DAG shares: daily 07:00 UTC data intervals over the previous day,
    one run at a time, retries with exponential backoff."""
    from airflow.sdk import CronDataIntervalTimetable

    return {
        "schedule": CronDataIntervalTimetable("0 7 * * *", timezone="UTC"),
        "start_date": schedule.dag_start,
        "end_date": schedule.dag_end,
        "catchup": schedule.catchup,
        "max_active_runs": 1,
        "default_args": {
            "retries": schedule.retries,
            "retry_delay": dt.timedelta(seconds=schedule.retry_delay_s),
            "retry_exponential_backoff": 2.0,
            "max_retry_delay": dt.timedelta(seconds=schedule.max_retry_delay_s),
        },
        "tags": tags,
    }


def _validated(model: type[M], values: dict[str, str], origin: Callable[[str], str]) -> M:
    try:
        return model(**values)
    except ValidationError as e:
        err = e.errors()[0]
        name = str(err["loc"][0])
        raise ConfigError(f"option {name} = {values.get(name)!r} (from {origin(name)}): {err['msg']}") from None

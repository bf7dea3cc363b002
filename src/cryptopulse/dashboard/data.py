"""The dashboard's access to the published version: one snapshot per version, query results cached by version.

Every interaction first reads the version id (one small file); a new publish therefore opens a new
snapshot and misses every cache on the next interaction, without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from cryptopulse.config import Settings, load_settings
from cryptopulse.lake import Lake
from cryptopulse.read import Snapshot, open_snapshot, queries
from cryptopulse.read.snapshot import current_version

# the command that publishes each table a page may need
PUBLISHED_BY = {
    "analysis_lead_lag": "cryptopulse analyze",
    "fct_post_sentiment": "cryptopulse enrich",
    "mart_coin_hourly": "cryptopulse run",
    "mart_coin_daily": "cryptopulse run",
}


@dataclass(frozen=True)
class Published:
    """The lake and the snapshot of its published version that this interaction reads."""

    lake: Lake
    snapshot: Snapshot

    @property
    def version(self) -> str:
        return self.snapshot.version

    def has(self, table: str) -> bool:
        return table in self.snapshot.tables

    def query(self, name: str, *args: object) -> pd.DataFrame:
        """Run `queries.<name>(cursor, *args)` on this version, cached by (version, name, args)."""
        return _query(self.snapshot, self.lake.uri(""), self.version, name, args)


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    """The settings `cryptopulse dashboard` resolved (it passes them down in the environment)."""
    return load_settings()


def freshness_hours() -> int:
    return settings().freshness_hours


def published(lake: Lake) -> Published | None:
    """The current published version, or None when nothing is published."""
    version = current_version(lake)
    if version is None:
        return None
    return Published(lake, _snapshot(lake.uri(""), version))


# An evicted snapshot is not closed here: a session may still be reading it; its connection closes once unreferenced.
@st.cache_resource(max_entries=2, show_spinner=False)
def _snapshot(lake_uri: str, version: str) -> Snapshot:
    return open_snapshot(Lake(lake_uri))


@st.cache_data(max_entries=2000, show_spinner=False)
def _query(_snapshot: Snapshot, lake_uri: str, version: str, name: str, args: tuple) -> pd.DataFrame:
    cur = _snapshot.cursor()
    try:
        return getattr(queries, name)(cur, *args).to_pandas()
    finally:
        cur.close()

"""The bundled coin catalog (CoinGecko ids, symbols, names, market-cap ranks of the largest coins, dated): the coin list
of a lake that has none of its own. Built by scripts/build_coin_catalog.py; see docs/IMPORTERS.md."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptopulse.lake import Lake

CATALOG_FILE = Path(__file__).with_name("coin_catalog.csv")
# Where the catalog lands in a lake without a coin list of its own (staging reads `raw/*/coingecko/coins_*.json`).
LANDED_LIST = "raw/catalog/coingecko/coins_list.json"
LANDED_MARKETS = "raw/catalog/coingecko/coins_markets.json"


@dataclass(frozen=True)
class CatalogCoin:
    """One coin of the catalog."""

    coin_id: str
    symbol: str
    name: str
    market_cap_rank: int


@dataclass(frozen=True)
class Catalog:
    """The catalog's coins in rank order and the day their ranks were taken."""

    coins: tuple[CatalogCoin, ...]
    as_of: str

    def describe(self) -> str:
        return f"the bundled catalog ({len(self.coins)} largest coins by market cap, CoinGecko, as of {self.as_of})"


@cache
def bundled() -> Catalog:
    """The catalog shipped with the package."""
    with CATALOG_FILE.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    coins = tuple(CatalogCoin(r["coin_id"], r["symbol"], r["name"], int(r["market_cap_rank"])) for r in rows)
    return Catalog(coins, max(r["as_of"] for r in rows))


def land(lake: Lake) -> list[str]:
    """Write the catalog as a `/coins/list` and a `/coins/markets` answer under `raw/catalog/coingecko/`."""
    catalog = bundled()
    listed = [{"id": c.coin_id, "symbol": c.symbol, "name": c.name} for c in catalog.coins]
    markets = [{**entry, "market_cap_rank": c.market_cap_rank, "last_updated": catalog.as_of}
               for entry, c in zip(listed, catalog.coins, strict=True)]
    for relpath, body in ((LANDED_LIST, listed), (LANDED_MARKETS, markets)):
        lake.write_bytes(relpath, json.dumps(body, ensure_ascii=False).encode())
    return [LANDED_LIST, LANDED_MARKETS]


def remove(lake: Lake) -> list[str]:
    """Take the landed catalog out of the lake (a coin list of the lake's own replaces it); returns what was removed."""
    removed = [relpath for relpath in (LANDED_LIST, LANDED_MARKETS) if lake.exists(relpath)]
    for relpath in removed:
        lake.remove(relpath)
    return removed

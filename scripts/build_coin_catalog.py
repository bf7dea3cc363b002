"""Build the bundled coin catalog (src/cryptopulse/sources/importers/coin_catalog.csv) from two saved CoinGecko answers.

Where the facts come from (both files are in ../shared/data/real/prices/, copied byte for byte from public
repositories; see that folder's README.md):

- `Cryptosphere_coingecko_coins_markets_wrapped.json` — a `GET /coins/markets?vs_currency=usd` answer saved as
  `{"data": [...]}` by iamgnnr/Cryptosphere (data/coins.json, commit fc76b34cc0c3): the 100 largest coins by market
  cap with `id, symbol, name, market_cap_rank, last_updated`. Every id, symbol, name and rank in the catalog is
  taken from here, and the catalog's `as_of` is the newest `last_updated` day (the ranks of that day).
- `crypto-cli_coingecko_coins_list_dict.json` — a `GET /coins/list` answer (16,354 coins) saved as a dict keyed by
  id by kittymoonsz/crypto-cli (coins_list.json, commit 94da3c61e682). It is a cross-check only: every catalog id
  must be a listed CoinGecko id. A symbol or name the list spells differently (it was saved on another day) is
  printed; the markets answer wins, since its spelling belongs to the same day as the ranks.

Run from the project root: `.venv/bin/python scripts/build_coin_catalog.py [PRICES_FOLDER]`.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRICES = ROOT.parent / "shared" / "data" / "real" / "prices"
MARKETS = "Cryptosphere_coingecko_coins_markets_wrapped.json"
COINS_LIST = "crypto-cli_coingecko_coins_list_dict.json"
OUTPUT = ROOT / "src" / "cryptopulse" / "sources" / "importers" / "coin_catalog.csv"


def build(prices: Path) -> list[dict[str, object]]:
    """The catalog rows (rank order) from the markets answer, each id checked against the coins list."""
    markets = json.loads((prices / MARKETS).read_text())["data"]
    listed = json.loads((prices / COINS_LIST).read_text())
    as_of = max(m["last_updated"] for m in markets)[:10]
    rows = []
    for m in sorted(markets, key=lambda m: m["market_cap_rank"]):
        if m["id"] not in listed:
            raise SystemExit(f"{m['id']!r} is in the markets answer but not in the coins list")
        other = listed[m["id"]]
        if (other["symbol"], other["name"]) != (m["symbol"], m["name"]):
            print(f"note: {m['id']}: the list says {other['symbol']!r}/{other['name']!r}, the markets answer "
                  f"{m['symbol']!r}/{m['name']!r} (kept)")
        rows.append({"coin_id": m["id"], "symbol": m["symbol"], "name": m["name"],
                     "market_cap_rank": m["market_cap_rank"], "as_of": as_of})
    return rows


def main() -> None:
    prices = Path(sys.argv[1]) if len(sys.argv) > 1 else PRICES
    rows = build(prices)
    with OUTPUT.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{OUTPUT.relative_to(ROOT)}: {len(rows)} coins as of {rows[0]['as_of']}")


if __name__ == "__main__":
    main()

"""Which coin a price file is about: `--coin`, its symbol or pair column, or its file name — checked against the lake's
own coin lists or, in a lake without one, the bundled catalog."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from cryptopulse.lake import Lake
from cryptopulse.sources.importers import catalog
from cryptopulse.sources.importers.detect import Parsed
from cryptopulse.sources.importers.errors import ImportFileError

LIST_PATTERN = "raw/*/coingecko/coins_list.json"
MARKETS_PATTERN = "raw/*/coingecko/coins_markets.json"
# Quote currencies of a pair (`BTCUSDT`, `ETH-BTC`), longest first so that `usdt` is tried before `usd`.
USD_QUOTES = ("fdusd", "busd", "tusd", "usdc", "usdp", "usdt", "dai", "usd")
OTHER_QUOTES = ("btc", "eth", "bnb", "eur", "gbp", "jpy", "krw", "try", "aud", "cad", "chf")
QUOTES = tuple(sorted((*USD_QUOTES, *OTHER_QUOTES), key=len, reverse=True))
_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass
class Coins:
    """The coins a price file may name: ids, symbol → ids (best market-cap rank first), ranks, and where they came from."""

    ids: set[str]
    by_symbol: dict[str, list[str]]
    names: dict[str, str]
    ranks: dict[str, int]
    origin: str

    def best(self, symbol: str) -> list[str]:
        """The coins with `symbol`: only the ranked ones when any is ranked (symbols are not unique)."""
        ids = self.by_symbol.get(symbol, [])
        ranked = [i for i in ids if i in self.ranks]
        return ranked[:1] if ranked else ids


def own_lists(lake: Lake) -> list[str]:
    """The lake's own `/coins/list` files (the landed catalog is not one)."""
    return [p for p in lake.glob(LIST_PATTERN) if p != catalog.LANDED_LIST]


def known_coins(lake: Lake) -> Coins:
    """The lake's coin lists when it has any (ranks from its markets files; the catalog's ranks only break ties
    between coins sharing a symbol); otherwise the bundled catalog."""
    bundled = catalog.bundled()
    bundled_ranks = {c.coin_id: c.market_cap_rank for c in bundled.coins}
    lists = own_lists(lake)
    if lists:
        entries = [e for p in lists for e in _json_array(lake, p) if isinstance(e, dict) and e.get("id")]
        lake_ranks = {e["id"]: e["market_cap_rank"] for p in lake.glob(MARKETS_PATTERN) if p != catalog.LANDED_MARKETS
                      for e in _json_array(lake, p) if isinstance(e, dict) and e.get("market_cap_rank") is not None}
        ranks, origin = {**bundled_ranks, **lake_ranks}, "any coins list in the lake"
    else:
        entries = [{"id": c.coin_id, "symbol": c.symbol, "name": c.name} for c in bundled.coins]
        ranks, origin = bundled_ranks, bundled.describe()
    ids = {str(e["id"]) for e in entries}
    symbols: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        symbols[str(e.get("symbol") or "").lower()].add(str(e["id"]))
    ranks = {i: r for i, r in ranks.items() if i in ids}
    by_symbol = {s: sorted(c, key=lambda i: (ranks.get(i, float("inf")), i)) for s, c in symbols.items()}
    return Coins(ids, by_symbol, {str(e["id"]): str(e.get("name") or "") for e in entries}, ranks, origin)


def _json_array(lake: Lake, relpath: str) -> list[Any]:
    try:
        body = json.loads(lake.read_bytes(relpath))
    except ValueError:
        return []
    return body if isinstance(body, list) else []


def resolve_coin(lake: Lake, parsed: Parsed, coin: str | None) -> str:
    """`--coin`, else the coin the file's symbol column or file name names; it must be a known coin."""
    coins = known_coins(lake)
    if coin is None:
        coin, how = _infer(parsed, coins)
        parsed.notes.append(f"coin {coin!r} chosen from {how}")
    if coin not in coins.ids:
        raise ImportFileError(
            f"{parsed.path}: coin {coin!r} is not in {coins.origin}; import a /coins/list file that has it first "
            "(cryptopulse import prices coins_list.json) or pass --coin with a listed id"
        )
    return coin


def _infer(parsed: Parsed, coins: Coins) -> tuple[str, str]:
    symbols = sorted({str(r.values.get("symbol") or "").strip() for r in parsed.rows if r.problem is None} - {""})
    if len(symbols) > 1:
        raise ImportFileError(f"{parsed.path}: the symbol column names {len(symbols)} pairs ({', '.join(symbols[:3])}, …); "
                              "import one coin per file, or pass --coin ID")
    if symbols:
        return _from_pair(parsed.path, symbols[0], coins), f"symbol {symbols[0]!r}"
    named = coins_in_name(parsed.path, coins)
    if len(named) == 1:
        return named[0], f"the file name {parsed.path.name!r}"
    found = f"its name could be {' or '.join(named)}" if named else "its name names no coin"
    raise ImportFileError(f"{parsed.path}: the file has no symbol column and {found}; pass --coin ID (a CoinGecko id "
                          "such as bitcoin)")


def split_pair(value: str, coins: Coins) -> tuple[str, str | None]:
    """`BTC/USDT`, `BTC-USD`, `btc_usd` → (btc, usd/usdt); `BTCUSDT` → (btc, usdt) when `btc` is a known symbol;
    `BTC` → (btc, None)."""
    parts = [p for p in re.split(r"[/\-_: ]+", value.strip().lower()) if p]
    if len(parts) >= 2:
        return parts[0], parts[1]
    token = parts[0] if parts else ""
    for quote in QUOTES:
        base = token[: -len(quote)]
        if base and token.endswith(quote) and base in coins.by_symbol:
            return base, quote
    return token, None


def _from_pair(path: Path, value: str, coins: Coins) -> str:
    base, quote = split_pair(value, coins)
    if quote is not None and quote not in USD_QUOTES:
        raise ImportFileError(f"{path}: symbol {value!r} is quoted in {quote.upper()}, not in US dollars; "
                              "prices must be in USD (or a USD stablecoin)")
    candidates = [base] if base in coins.ids else coins.best(base)
    if len(candidates) == 1:
        return candidates[0]
    found = f"{len(candidates)} coins have symbol {base!r}" if candidates else f"no coin has symbol {base!r}"
    raise ImportFileError(f"{path}: in {coins.origin}, {found} (from {value!r}); pass --coin ID")


def coins_in_name(path: Path, coins: Coins) -> list[str]:
    """The ranked coins a file name names by id, name, symbol or pair (`bitcoin_price`, `BTCUSDT_1h`, `BTC-USD`);
    a name inside a longer one (`bitcoin` in `bitcoin-cash`) does not count."""
    tokens = _TOKEN.findall(path.stem.lower())
    spans: dict[tuple[int, int], str] = {}
    for coin_id in coins.ranks:
        for words in (_TOKEN.findall(coin_id), _TOKEN.findall(coins.names.get(coin_id, "").lower())):
            for start in _occurrences(tokens, words):
                spans.setdefault((start, start + len(words)), coin_id)
    for i, token in enumerate(tokens):
        base, quote = split_pair(token, coins)
        if base in USD_QUOTES or (quote is not None and quote not in USD_QUOTES):
            continue  # `usd` alone is no coin; `ethbtc` is not priced in dollars
        if quote is None and (len(base) < 3 or base in _everyday_words()):
            continue  # short symbols and everyday words (`op`, `near`) name a coin only as a pair (`nearusdt`)
        best = [c for c in coins.best(base) if c in coins.ranks]
        if best:
            spans.setdefault((i, i + 1), best[0])
    outer = [s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans)]
    return sorted({spans[s] for s in outer})


def _occurrences(tokens: list[str], words: list[str]) -> list[int]:
    n = len(words)
    return [i for i in range(len(tokens) - n + 1) if n and tokens[i : i + n] == words]


@cache
def _everyday_words() -> frozenset[str]:
    """Coin symbols that are everyday words (`one`, `sol`, `link`): the models' seed, so names agree with mentions."""
    text = resources.files("cryptopulse.models").joinpath("seeds/ambiguous_words.csv").read_text(encoding="utf-8")
    return frozenset(row["word"] for row in csv.DictReader(text.splitlines()))

"""The coin catalogue, the scale plan and the planted ground truth of the synthetic dataset."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

END = datetime(2024, 6, 1, tzinfo=UTC)
REF_COINS = 20
REF_DAYS = 520
REF_POSTS = 1_500_000
MIN_COINS = 5
MAX_COINS = 2_000
UNKNOWN_COIN_ID = "unknown-coin-xyz"


@dataclass(frozen=True)
class Coin:
    """One tracked coin and the parameters of its simulated market."""

    id: str
    symbol: str
    name: str
    price0: float
    sigma: float  # hourly log-return volatility (absolute deviation for stablecoins)
    supply0: float
    supply_growth: float  # per year, continuous
    turnover: float  # 24 h volume / market cap
    popularity: float  # relative share of posts
    image_id: int
    stable: bool = False


#          id               symbol   name            price0     sigma   supply0   growth turnover pop   image
_TOP20 = [
    ("bitcoin", "btc", "Bitcoin", 16_550.0, 0.0045, 19.25e6, 0.017, 0.045, 1.00, 1),
    ("ethereum", "eth", "Ethereum", 1_200.0, 0.0055, 120.5e6, 0.000, 0.050, 0.60, 279),
    ("tether", "usdt", "Tether", 1.0, 0.00025, 66.2e9, 0.300, 0.400, 0.12, 325),
    ("binancecoin", "bnb", "BNB", 245.0, 0.0050, 160.0e6, -0.02, 0.020, 0.20, 825),
    ("solana", "sol", "Solana", 10.0, 0.0100, 370.0e6, 0.060, 0.060, 0.35, 4128),
    ("ripple", "xrp", "XRP", 0.34, 0.0070, 50.5e9, 0.040, 0.050, 0.30, 44),
    ("usd-coin", "usdc", "USDC", 1.0, 0.00020, 44.5e9, -0.10, 0.150, 0.06, 6319),
    ("cardano", "ada", "Cardano", 0.25, 0.0075, 34.5e9, 0.020, 0.030, 0.20, 975),
    ("dogecoin", "doge", "Dogecoin", 0.070, 0.0090, 132.6e9, 0.035, 0.050, 0.35, 5),
    ("tron", "trx", "TRON", 0.054, 0.0050, 92.0e9, -0.01, 0.040, 0.08, 1094),
    ("avalanche-2", "avax", "Avalanche", 11.0, 0.0095, 310.0e6, 0.080, 0.050, 0.12, 12559),
    ("shiba-inu", "shib", "Shiba Inu", 0.0000080, 0.0090, 589.0e12, 0.000, 0.040, 0.20, 11939),
    ("polkadot", "dot", "Polkadot", 4.3, 0.0075, 1.15e9, 0.070, 0.030, 0.10, 12171),
    ("chainlink", "link", "Chainlink", 5.5, 0.0085, 507.0e6, 0.040, 0.045, 0.12, 877),
    ("matic-network", "matic", "Polygon", 0.75, 0.0090, 8.7e9, 0.030, 0.045, 0.10, 4713),
    ("litecoin", "ltc", "Litecoin", 70.0, 0.0070, 72.0e6, 0.020, 0.060, 0.10, 2),
    ("bitcoin-cash", "bch", "Bitcoin Cash", 100.0, 0.0080, 19.2e6, 0.017, 0.050, 0.06, 780),
    ("uniswap", "uni", "Uniswap", 5.2, 0.0085, 762.0e6, 0.020, 0.030, 0.06, 12504),
    ("stellar", "xlm", "Stellar", 0.070, 0.0070, 26.0e9, 0.030, 0.025, 0.05, 100),
    ("harmony", "one", "Harmony", 0.013, 0.0110, 12.0e9, 0.050, 0.060, 0.04, 4344),
]

# Coins in /coins/list that are not tracked; some share a tracked coin's symbol, as on CoinGecko.
DECOYS = [
    ("ethereum-wormhole", "eth", "Ethereum (Wormhole)"),
    ("bridged-wrapped-ether-starkgate", "eth", "Bridged Ether (StarkGate)"),
    ("batcat", "btc", "batcat"),
    ("bitcoin-avalanche-bridged-btc-b", "btc.b", "Bitcoin Avalanche Bridged (BTC.b)"),
    ("sol-wormhole", "sol", "Wrapped SOL (Wormhole)"),
    ("one-ledger", "olt", "OneLedger"),
    ("link-wormhole", "link", "Chainlink (Wormhole)"),
    ("dot-finance", "pink", "Dot Finance"),
    ("uni-wormhole", "uni", "Uniswap (Wormhole)"),
    ("harmony-launcher", "one", "Harmony Launcher"),
    ("monero", "xmr", "Monero"),
    ("cosmos", "atom", "Cosmos Hub"),
    ("ethereum-classic", "etc", "Ethereum Classic"),
    ("near", "near", "NEAR Protocol"),
    ("aptos", "apt", "Aptos"),
    ("filecoin", "fil", "Filecoin"),
    ("internet-computer", "icp", "Internet Computer"),
    ("hedera-hashgraph", "hbar", "Hedera"),
    ("vechain", "vet", "VeChain"),
    ("algorand", "algo", "Algorand"),
]

STABLE_IDS = frozenset({"tether", "usd-coin"})
ALWAYS_PLANTED = frozenset({"bitcoin", "ethereum"})


@dataclass(frozen=True)
class Plan:
    """How much data one scale means: coins, days and the post budget, ending at a fixed date."""

    scale: float
    n_coins: int
    days: int
    target_posts: int

    @property
    def start(self) -> datetime:
        return END - timedelta(days=self.days)

    @property
    def hours(self) -> int:
        return self.days * 24

    def months(self) -> Iterator[tuple[int, datetime, datetime]]:
        """(index, first hour, end) of each calendar month the data touches, clipped to the range."""
        lo, index = self.start, 0
        while lo < END:
            nxt = datetime(lo.year + lo.month // 12, lo.month % 12 + 1, 1, tzinfo=UTC)
            hi = min(nxt, END)
            yield index, lo, hi
            lo, index = hi, index + 1


def make_plan(scale: float) -> Plan:
    """The plan for `scale` (1.0 = 20 coins x 520 days hourly and ~1.5 M posts)."""
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    n_coins = max(MIN_COINS, min(MAX_COINS, round(REF_COINS * math.sqrt(scale))))
    days = math.ceil(round(REF_DAYS * scale * REF_COINS / n_coins, 9))
    return Plan(scale=scale, n_coins=n_coins, days=days, target_posts=round(REF_POSTS * scale))


def build_coins(n_coins: int, seed: int) -> list[Coin]:
    """The first `n_coins` tracked coins: the real top 20, then deterministic synthetic ones."""
    coins = [Coin(*row, stable=row[0] in STABLE_IDS) for row in _TOP20[:n_coins]]
    rng = np.random.default_rng([seed, 0, 1])
    for k in range(len(coins) + 1, n_coins + 1):
        coins.append(
            Coin(
                id=f"synthcoin-{k:03d}",
                symbol=f"sc{k:03d}",
                name=f"Synthcoin {k:03d}",
                price0=float(10 ** rng.uniform(-4, 2)),
                sigma=float(rng.uniform(0.006, 0.014)),
                supply0=float(10 ** rng.uniform(7, 11)),
                supply_growth=float(rng.uniform(0.0, 0.1)),
                turnover=float(rng.uniform(0.02, 0.1)),
                popularity=float(0.02 * rng.uniform(0.3, 1.5)),
                image_id=40_000 + k,
            )
        )
    return coins


@dataclass(frozen=True)
class Truth:
    """The planted lead of sentiment over returns for one coin (`lead_hours` None: not planted)."""

    lead_hours: int | None
    strength: float


def plant_truth(coins: list[Coin], seed: int) -> list[Truth]:
    """Plant a signal in roughly half the coins: always bitcoin and ethereum, never stablecoins."""
    rng = np.random.default_rng([seed, 0, 2])
    truths = []
    for coin in coins:
        draw, lead, strength = rng.random(), int(rng.integers(1, 7)), float(rng.uniform(0.2, 0.4))
        planted = coin.id in ALWAYS_PLANTED or (not coin.stable and draw < 0.5)
        truths.append(Truth(lead, round(strength, 3)) if planted else Truth(None, 0.0))
    return truths


def coins_list(coins: list[Coin]) -> list[dict[str, str]]:
    """The body of GET /coins/list: tracked coins plus decoys, sorted by id like CoinGecko."""
    rows = [{"id": c.id, "symbol": c.symbol, "name": c.name} for c in coins]
    rows += [{"id": i, "symbol": s, "name": n} for i, s, n in DECOYS]
    return sorted(rows, key=lambda r: r["id"])


def coins_markets(coins: list[Coin], last: dict[str, np.ndarray], last_updated: str) -> list[dict]:
    """The body of GET /coins/markets for the tracked coins, ranked by their final market cap."""
    order = np.argsort(-last["market_cap"], kind="stable")
    rows = []
    for rank, i in enumerate(order.tolist(), start=1):
        c = coins[i]
        rows.append(
            {
                "id": c.id,
                "symbol": c.symbol,
                "name": c.name,
                "image": f"https://assets.coingecko.com/coins/images/{c.image_id}/large/{c.id}.png",
                "current_price": float(last["price"][i]),
                "market_cap": float(round(last["market_cap"][i])),
                "market_cap_rank": rank,
                "total_volume": float(round(last["volume"][i])),
                "circulating_supply": float(round(last["supply"][i])),
                "last_updated": last_updated,
            }
        )
    return rows


def ground_truth(coins: list[Coin], truths: list[Truth]) -> dict[str, dict]:
    """The body of ground_truth.json."""
    return {c.id: {"lead_hours": t.lead_hours, "strength": t.strength} for c, t in zip(coins, truths)}

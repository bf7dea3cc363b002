"""CoinGecko constants: hosts, key variables and headers, rate, paths in the raw zone."""

SOURCE = "coingecko"
PUBLIC_BASE_URL = "https://api.coingecko.com/api/v3"  # keyless and demo keys
PRO_BASE_URL = "https://pro-api.coingecko.com/api/v3"
BASE_URL_ENV = "CRYPTOPULSE_COINGECKO_BASE_URL"  # overrides both hosts (tests, proxies)

DEMO_KEY_ENV = "COINGECKO_DEMO_API_KEY"
PRO_KEY_ENV = "COINGECKO_PRO_API_KEY"
DEMO_KEY_HEADER = "x-cg-demo-api-key"
PRO_KEY_HEADER = "x-cg-pro-api-key"

CALLS_PER_MINUTE = 30  # the demo plan's limit; the pro plans allow more (pass calls_per_minute)
TIMEOUT_S = 30.0
VS_CURRENCY = "usd"
MARKETS_PAGE_SIZE = 250  # the API's maximum per_page
FREE_HISTORY_DAYS = 365  # public and demo plans serve no older history

# Raw zone layout (docs/RAW_FORMATS.md).
RAW_DIR = "raw/coingecko/coingecko"
COINS_LIST_PATH = f"{RAW_DIR}/coins_list.json"
COINS_MARKETS_PATH = f"{RAW_DIR}/coins_markets.json"
MARKET_CHART_PATH = RAW_DIR + "/market_chart/month={month}/{coin_id}.json.gz"

PLAN_HINT = (
    "CoinGecko free/demo plans only serve the last 365 days of history (and no pro-only endpoints): "
    f"use a later --start, or set {PRO_KEY_ENV} for a paid plan"
)

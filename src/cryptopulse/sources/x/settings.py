"""X API v2 constants: host, endpoint, fields, quota headers, paths in the raw zone."""

from cryptopulse.sources.http import RateHeaders

SOURCE = "x"
BASE_URL = "https://api.x.com"
BASE_URL_ENV = "CRYPTOPULSE_X_BASE_URL"
TOKEN_ENV = "X_BEARER_TOKEN"
SEARCH_PATH = "/2/tweets/search/recent"

MAX_RESULTS = 100  # the endpoint's maximum per page
TWEET_FIELDS = "created_at,public_metrics,lang,author_id"
EXPANSIONS = "author_id"
RECENT_DAYS = 7  # recent search only reaches back this far
END_LAG_S = 10  # end_time must be at least 10 s before the request
CALLS_PER_MINUTE = 30  # a ceiling; the quota headers below pace us to the plan's real limit
TIMEOUT_S = 30.0
RATE_HEADERS = RateHeaders(remaining="x-rate-limit-remaining", reset="x-rate-limit-reset", reset_is_epoch=True)

# Query per coin: its cashtag and hashtags, original posts only, in English (see README.md).
QUERY_SUFFIX = "-is:retweet lang:en"

POSTS_DIR = "raw/x/x/posts"
PAGES_PER_FILE = 50

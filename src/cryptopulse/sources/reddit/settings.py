"""Reddit constants: OAuth and API hosts, credentials variables, quota headers, paths in the raw zone."""

from cryptopulse.sources.http import RateHeaders

SOURCE = "reddit"
AUTH_URL = "https://www.reddit.com/api/v1/access_token"
BASE_URL = "https://oauth.reddit.com"
AUTH_URL_ENV = "CRYPTOPULSE_REDDIT_AUTH_URL"
BASE_URL_ENV = "CRYPTOPULSE_REDDIT_BASE_URL"
CLIENT_ID_ENV = "REDDIT_CLIENT_ID"
CLIENT_SECRET_ENV = "REDDIT_CLIENT_SECRET"
USER_AGENT_ENV = "CRYPTOPULSE_REDDIT_USER_AGENT"
USER_AGENT_EXAMPLE = "cryptopulse/{version} (by /u/your_reddit_username)"

PAGE_LIMIT = 100  # the listing maximum
CALLS_PER_MINUTE = 100  # Reddit's OAuth limit per client id
TIMEOUT_S = 30.0
RATE_HEADERS = RateHeaders(remaining="x-ratelimit-remaining", reset="x-ratelimit-reset", reset_is_epoch=False)

POSTS_DIR = "raw/reddit/reddit/posts"
PAGES_PER_FILE = 50

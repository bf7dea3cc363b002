"""Words the synthetic posts are made of: sentiment phrases, openers, tails, noise and spam."""

from __future__ import annotations

# Bare ordinary words that are also coin symbols (SOL, ONE, LINK, DOT, UNI): never a mention.
AMBIGUOUS_WORDS = ("one", "link", "sol", "dot", "uni")

# Sentiment phrases by polarity. They use standard VADER words (great, love, amazing, strong, bad,
# terrible, fear, panic, …) and crypto slang (moon, hodl, rekt, fud, bullish, bearish, pump, dump,
# scam, rug, ath, dip). A few use an ambiguous word bare ("one more leg up", "link in bio").
POSITIVE = (
    "looking strong today",
    "to the moon 🌕",
    "is so bullish right now",
    "breaking out, amazing move",
    "love this chart",
    "great entry here, hodl",
    "new ATH soon",
    "buying every dip, bullish af",
    "pump incoming",
    "one more leg up and we fly",
    "strong hands hodl 💎🙌",
    "best investment I ever made",
    "great news for holders",
    "this rally is amazing",
    "going parabolic, love it",
    'they said "buy the dip" and they were right',
    "moon mission loading, wagmi",
    "excellent fundamentals, happy to hold",
)
NEGATIVE = (
    "looks terrible",
    "total panic, got rekt",
    "is a scam, stay away",
    "so bearish, dumping hard",
    "dump incoming",
    "bad news, fear everywhere",
    "smells like a rug pull",
    "all this fud is bad for everyone",
    "getting rekt again, awful",
    "terrible price action, selling",
    "crashing, panic selling everywhere",
    "bleeding out, this is horrible",
    "weak chart, the dip keeps dipping",
    "worst trade of my life, ngmi",
    "sad day for holders, losing money",
    "rug incoming, fear and panic",
)
NEUTRAL = (
    "price update",
    "what do you think?",
    "daily chart 👇",
    "watching closely",
    "volume check",
    "anyone trading this today?",
    "link in bio for the full analysis",
    "news roundup",
    "holding steady",
    "sideways again",
    "trading at the same level as yesterday",
    "thread below",
    "one chart to watch this week",
)
OPENERS = (
    "",
    "",
    "",
    "",
    "Just bought more",
    "Honestly,",
    "Breaking:",
    "gm!",
    "Not financial advice but",
    "Thoughts on",
    "Update:",
    "ok so",
)
POSITIVE_EMOJI = ("", "", "", " 🚀", " 🔥", " 📈", " 💎", " 🚀🚀🚀", " 🙌", " 😍")
NEGATIVE_EMOJI = ("", "", "", " 📉", " 😱", " 💀", " 😭", " 🩸", " 🤡")
NEUTRAL_EMOJI = ("", "", "", "", " 👀", " 📊", " 🤔", " ⏳")
SEPARATORS = (" and ", " & ", ", ", " vs ", " + ")
HASHTAG_TAILS = ("", "", "", "", "", " #crypto", " #altcoins", " #trading", " #web3", " #DeFi")

# Ordinary sentences (no coin mention) that use ambiguous words bare; (text, lang).
NOISE = (
    ("one more day until the weekend 🙏", "en"),
    ("link in bio", "en"),
    ("sol y playa ☀️🏖️", "es"),
    ("back to uni tomorrow, wish me luck", "en"),
    ("connect the dot to the next dot, people", "en"),
    ("just one of those days", "en"),
    ("new video is up, link below", "en"),
    ("el sol brilla hoy", "es"),
    ("polka dot dress season is here", "en"),
    ("only one coffee today, proud of myself", "en"),
    ("uni library at 2am again", "en"),
    ("click the link for tickets 🎟️", "en"),
)

USER_FIRST = (
    "crypto",
    "moon",
    "satoshi",
    "hodl",
    "chart",
    "degen",
    "whale",
    "alpha",
    "defi",
    "block",
    "bull",
    "bear",
    "sats",
    "gwei",
    "token",
    "ledger",
    "nft",
    "trader",
    "mining",
    "stack",
)
USER_SECOND = (
    "fan",
    "king",
    "queen",
    "guru",
    "daily",
    "lord",
    "max",
    "bro",
    "wizard",
    "hunter",
    "trader",
    "news",
    "watcher",
    "ape",
    "boy",
    "girl",
    "capital",
    "labs",
    "talk",
    "life",
)

BOT_NAMES = (
    "free_airdrop_now",
    "claim_rewards_bot",
    "giveaway_official",
    "crypto_drops_247",
    "airdrop_alerts_x",
    "moon_rewards_hub",
    "token_giveaway_",
    "bonus_claim_live",
    "drop_hunter_bot",
    "reward_portal_io",
)
BOT_TEXT = "🚀 FREE ${symbol} AIRDROP 🚀 Claim now before it ends! 🎁 https://t.co/{code}"
BAD_TIMESTAMPS = ("not-a-date", "2023-13-45T99:00:00Z", "yesterday", "2024-02-30T25:61:00.000Z")

"""The crypto lexicon that extends VADER's: each word with its valence (VADER's −4…+4 scale) and why."""

from __future__ import annotations

from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

VERSION = "crypto-1"

# word: (valence, why). Words VADER already knows are listed only where crypto use differs from its value.
CRYPTO_WORDS: dict[str, tuple[float, str]] = {
    "moon": (2.0, "'to the moon': the price is expected to rise a lot; VADER has no entry"),
    "mooning": (2.5, "the price is rising fast right now"),
    "moonshot": (2.0, "a coin expected to multiply in price"),
    "hodl": (1.5, "holding through volatility out of conviction: a confident, mildly positive stance"),
    "rekt": (-2.5, "'wrecked': suffered a heavy trading loss"),
    "rekted": (-2.5, "past tense of rekt, as written in posts"),
    "fud": (-1.5, "fear, uncertainty and doubt: negative news or rumours (VADER -1.1, raised as it names a market fear)"),
    "bullish": (2.0, "expecting the price to rise; VADER has no entry"),
    "bearish": (-2.0, "expecting the price to fall; VADER has no entry"),
    "pump": (1.5, "a sharp price rise (the author is pleased, whether or not it lasts)"),
    "pumping": (1.5, "the price is rising sharply now"),
    "dump": (-2.0, "a sharp price fall, or selling hard (VADER -1.6 for the non-market sense)"),
    "dumping": (-2.0, "selling hard / falling sharply (VADER -1.3)"),
    "scam": (-3.0, "fraud: in crypto posts a strong accusation (VADER -2.7)"),
    "rug": (-3.0, "'rug pull': the developers vanish with the investors' money"),
    "rugged": (-3.0, "the victim of a rug pull"),
    "rugpull": (-3.0, "written as one word"),
    "ath": (2.0, "all-time high: the highest price ever"),
    "dip": (-1.0, "a price drop; mild, since 'buy the dip' treats it as an opportunity"),
    "wagmi": (2.0, "'we are all gonna make it': collective optimism"),
    "ngmi": (-2.0, "'not gonna make it': doom for a holder or a coin"),
    "lambo": (1.5, "the Lamborghini bought with gains: an expected windfall"),
    "parabolic": (2.0, "a price curve rising ever faster"),
    "bagholder": (-1.8, "someone left holding a coin that lost its value"),
    "crashing": (-2.0, "the price is falling hard (VADER has 'crash' -1.7 but not this form)"),
    "bleeding": (-2.0, "losing value steadily ('bleeding out')"),
    "rally": (1.8, "a sustained price rise"),
    "breakout": (1.5, "the price leaves a range upwards (in posts mostly upwards)"),
    "lfg": (2.0, "'let's f***ing go': excitement about a rise"),
    "shill": (-1.0, "promoting a coin for one's own gain: distrust"),
    "paperhands": (-1.5, "selling in panic at the first drop"),
}


def crypto_lexicon() -> dict[str, float]:
    """The extension as VADER lexicon entries (lower-case word → valence)."""
    return {word: valence for word, (valence, _) in CRYPTO_WORDS.items()}


@cache
def reference_analyzer() -> SentimentIntensityAnalyzer:
    """vaderSentiment's own analyzer with its lexicon extended by `CRYPTO_WORDS` (one per process)."""
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(crypto_lexicon())
    return analyzer

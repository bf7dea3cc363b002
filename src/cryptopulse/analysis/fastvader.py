"""VADER's `polarity_scores`, rule for rule, without its repeated work: identical scores, several times faster.

vaderSentiment re-lowercases the whole word list inside every rule it applies to every word, and
rebuilds the text one character at a time to replace emoji. Here each word is lowercased once and
emoji are looked up only in texts that hold one. Every rule (boosters, negation, 'but', 'least',
idioms, caps emphasis, punctuation) is the library's, in the library's order; the test suite checks
equality with `vaderSentiment` on every text of the corpus.
"""

from __future__ import annotations

import math
import string

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    normalize,
)

Scores = tuple[float, float, float, float]  # compound, pos, neu, neg
_NEGATE = frozenset(NEGATE)
_PUNCTUATION = string.punctuation
MARK = "\x00"  # stands before each emoji description until the spacing is settled
# The longest word of each idiom and of each booster of several words: a text holding none of these matches none of them.
_IDIOM_WORDS = frozenset(max(k.split(), key=len) for k in (*SPECIAL_CASES, *BOOSTER_DICT) if " " in k)


class FastVader:
    """Scores texts exactly as `analyzer.polarity_scores` does, reusing its lexicons."""

    def __init__(self, analyzer: SentimentIntensityAnalyzer) -> None:
        self.lexicon = analyzer.lexicon
        self.emojis = {k: v for k, v in analyzer.emojis.items() if len(k) == 1}  # VADER only ever matches single characters
        self._emoji_chars = frozenset(self.emojis)
        self._marked = {ord(k): MARK + v for k, v in self.emojis.items()}
        self._relevant = frozenset(self.lexicon) | frozenset(BOOSTER_DICT)

    def scores(self, text: str) -> Scores:
        """(compound, pos, neu, neg), rounded as vaderSentiment rounds them."""
        text = self._replace_emoji(text).strip()
        words = [w if len(s := w.strip(_PUNCTUATION)) <= 2 else s for w in text.split()]
        lower = [w.lower() for w in words]
        if self._relevant.isdisjoint(lower):  # no word VADER scores or reacts to: every valence is 0
            return (0.0, 0.0, 1.0, 0.0) if words else (0.0, 0.0, 0.0, 0.0)
        sentiments = self._valences(words, lower, not _IDIOM_WORDS.isdisjoint(lower))
        if "but" in lower:
            sentiments = SentimentIntensityAnalyzer._but_check(words, sentiments)
        return _score_valence(sentiments, text)

    def _replace_emoji(self, text: str) -> str:
        """Each emoji → its description, after a space unless one precedes it (VADER's rule), in C speed:
        translate to MARK + description, then a MARK after a space or at the start vanishes, others become spaces."""
        if self._emoji_chars.isdisjoint(text):
            return text
        if MARK in text:
            return self._replace_emoji_slowly(text)
        marked = text.translate(self._marked)
        if marked.startswith(MARK):
            marked = marked[1:]
        return marked.replace(" " + MARK, " ").replace(MARK, " ")

    def _replace_emoji_slowly(self, text: str) -> str:
        out, prev_space = [], True
        for ch in text:
            description = self.emojis.get(ch)
            if description is None:
                out.append(ch)
                prev_space = ch == " "
            else:
                out.append(description if prev_space else " " + description)
                prev_space = False
        return "".join(out)

    def _valences(self, words: list[str], lower: list[str], idioms: bool) -> list[float]:
        is_cap_diff = _allcap_differential(words)
        lexicon = self.lexicon
        sentiments: list[float] = []
        n = len(words)
        for i, low in enumerate(lower):
            if low in BOOSTER_DICT:
                sentiments.append(0)
                continue
            if i < n - 1 and low == "kind" and lower[i + 1] == "of":
                sentiments.append(0)
                continue
            if low not in lexicon:
                sentiments.append(0)
                continue
            sentiments.append(self._valence(words, lower, i, is_cap_diff, idioms))
        return sentiments

    def _valence(self, words: list[str], lower: list[str], i: int, is_cap_diff: bool, idioms: bool) -> float:
        """`SentimentIntensityAnalyzer.sentiment_valence` for a word that is in the lexicon (`idioms`: the text may
        hold an idiom)."""
        lexicon = self.lexicon
        low = lower[i]
        valence = lexicon[low]
        if low == "no" and i != len(words) - 1 and lower[i + 1] in lexicon:
            valence = 0.0
        if (i > 0 and lower[i - 1] == "no") or (i > 1 and lower[i - 2] == "no") or (
            i > 2 and lower[i - 3] == "no" and lower[i - 1] in ["or", "nor"]
        ):
            valence = lexicon[low] * N_SCALAR
        if words[i].isupper() and is_cap_diff:
            valence = valence + C_INCR if valence > 0 else valence - C_INCR
        for start_i in range(min(i, 3)):  # the (up to) three words before, nearest first
            before = lower[i - (start_i + 1)]
            if before not in lexicon:
                s = _scalar_inc_dec(words[i - (start_i + 1)], before, valence, is_cap_diff) if before in BOOSTER_DICT else 0.0
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
                valence = _negation_check(valence, lower, start_i, i)
                if start_i == 2 and idioms:
                    valence = _special_idioms_check(valence, lower, i)
        return _least_check(valence, lower, i, lexicon)


def _allcap_differential(words: list[str]) -> bool:
    allcap = sum(map(str.isupper, words))
    return 0 < len(words) - allcap < len(words)


def _scalar_inc_dec(word: str, low: str, valence: float, is_cap_diff: bool) -> float:
    scalar = 0.0
    if low in BOOSTER_DICT:
        scalar = BOOSTER_DICT[low]
        if valence < 0:
            scalar *= -1
        if word.isupper() and is_cap_diff:
            scalar = scalar + C_INCR if valence > 0 else scalar - C_INCR
    return scalar


def _negated(low: str) -> bool:
    return low in _NEGATE or "n't" in low


def _negation_check(valence: float, lower: list[str], start_i: int, i: int) -> float:
    if start_i == 0:
        if _negated(lower[i - 1]):
            valence = valence * N_SCALAR
    elif start_i == 1:
        if lower[i - 2] == "never" and (lower[i - 1] == "so" or lower[i - 1] == "this"):
            valence = valence * 1.25
        elif lower[i - 2] == "without" and lower[i - 1] == "doubt":
            pass
        elif _negated(lower[i - 2]):
            valence = valence * N_SCALAR
    else:
        if (lower[i - 3] == "never" and (lower[i - 2] == "so" or lower[i - 2] == "this")) or (
            lower[i - 1] == "so" or lower[i - 1] == "this"
        ):
            valence = valence * 1.25
        elif lower[i - 3] == "without" and (lower[i - 2] == "doubt" or lower[i - 1] == "doubt"):
            pass
        elif _negated(lower[i - 3]):
            valence = valence * N_SCALAR
    return valence


def _special_idioms_check(valence: float, lower: list[str], i: int) -> float:
    onezero = f"{lower[i - 1]} {lower[i]}"
    twoonezero = f"{lower[i - 2]} {lower[i - 1]} {lower[i]}"
    twoone = f"{lower[i - 2]} {lower[i - 1]}"
    threetwoone = f"{lower[i - 3]} {lower[i - 2]} {lower[i - 1]}"
    threetwo = f"{lower[i - 3]} {lower[i - 2]}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    if len(lower) - 1 > i:
        zeroone = f"{lower[i]} {lower[i + 1]}"
        if zeroone in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroone]
    if len(lower) - 1 > i + 1:
        zeroonetwo = f"{lower[i]} {lower[i + 1]} {lower[i + 2]}"
        if zeroonetwo in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in BOOSTER_DICT:
            valence = valence + BOOSTER_DICT[n_gram]
    return valence


def _least_check(valence: float, lower: list[str], i: int, lexicon: dict[str, float]) -> float:
    if i > 1 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
        if lower[i - 2] != "at" and lower[i - 2] != "very":
            valence = valence * N_SCALAR
    elif i > 0 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
        valence = valence * N_SCALAR
    return valence


def _punctuation_emphasis(text: str) -> float:
    ep = min(text.count("!"), 4) * 0.292
    qm_count = text.count("?")
    qm = 0.0 if qm_count <= 1 else (qm_count * 0.18 if qm_count <= 3 else 0.96)
    return ep + qm


def _score_valence(sentiments: list[float], text: str) -> Scores:
    if not sentiments:
        return 0.0, 0.0, 0.0, 0.0
    sum_s = float(sum(sentiments))
    amplifier = _punctuation_emphasis(text)
    if sum_s > 0:
        sum_s += amplifier
    elif sum_s < 0:
        sum_s -= amplifier
    compound = normalize(sum_s)
    pos_sum = neg_sum = 0.0
    neu_count = 0
    for s in sentiments:
        if s > 0:
            pos_sum += float(s) + 1
        if s < 0:
            neg_sum += float(s) - 1
        if s == 0:
            neu_count += 1
    if pos_sum > math.fabs(neg_sum):
        pos_sum += amplifier
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= amplifier
    total = pos_sum + math.fabs(neg_sum) + neu_count
    pos, neu, neg = math.fabs(pos_sum / total), math.fabs(neu_count / total), math.fabs(neg_sum / total)
    return round(compound, 4), round(pos, 3), round(neu, 3), round(neg, 3)


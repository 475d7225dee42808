"""Simple baselines the model card and the accuracy benchmark compare the model against.

>>> keyword = KeywordBaseline({"sanctions": ["embargo"], "other": []})
>>> keyword.predict_stance(["We condemn the embargo."]), keyword.predict_topic(["The embargo."])
(['opposes'], ['sanctions'])
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

__all__ = ["KeywordBaseline", "majority"]

_WORD = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")
_NEGATORS = {"not", "no", "never", "cannot", "without"}
# A hand-made cue lexicon, checked in the labels' decision order.
_STANCE_CUES = (
    (
        "calls_for",
        r"\b(urge[sd]?|urging|call(s|ed)? (on|upon|for)|appeal(s|ed)? to|must|should|need to|"
        r"needs to|demand(s|ed)?|propose[sd]?|invite[sd]?|it is (high )?time|essential|imperative|"
        r"let us)\b",
    ),
    (
        "supports",
        r"\b(support(s|ed)?|welcome[sd]?|endorse[sd]?|commend(s|ed)?|prais(e|es|ed)|"
        r"congratulat\w*|thank(s|ed)?|reaffirm(s|ed)?|committed|pledge[sd]?|contribut\w*|"
        r"allocated|ratifie[sd]|back(s|ed)|in favou?r of)\b",
    ),
    (
        "opposes",
        r"\b(oppose[sd]?|condemn(s|ed)?|reject(s|ed)?|denounce[sd]?|criticis\w*|criticiz\w*|"
        r"deplore[sd]?|unacceptable|concern(ed)?|regret(s|ted)?|alarm(ed|ing)?|against)\b",
    ),
)


def majority(train_labels: Sequence[str], n: int) -> list[str]:
    """Predict the most frequent training label ``n`` times."""
    label = Counter(train_labels).most_common(1)[0][0]
    return [label] * n


class KeywordBaseline:
    """Stance from a fixed cue list (first match in decision order, flipped by a preceding
    negator); topic from the most matches in a topic word list, else ``fallback``."""

    def __init__(self, lexicon: Mapping[str, Sequence[str]], fallback: str = "other") -> None:
        self.fallback = fallback
        self.terms: dict[str, str] = {}
        for topic, terms in lexicon.items():
            for term in terms:
                self.terms.setdefault(term.lower(), topic)
        self.patterns = [(stance, re.compile(p, re.IGNORECASE)) for stance, p in _STANCE_CUES]

    def predict_stance(self, texts: Sequence[str]) -> list[str]:
        """One stance per text."""
        return [self._stance(text) for text in texts]

    def predict_topic(self, texts: Sequence[str]) -> list[str]:
        """One topic per text."""
        return [self._topic(text) for text in texts]

    def _stance(self, text: str) -> str:
        for stance, pattern in self.patterns:
            match = pattern.search(text)
            if match:
                before = _WORD.findall(text[: match.start()].lower())[-3:]
                negated = any(w in _NEGATORS or w.endswith("n't") for w in before)
                if negated and stance == "supports":
                    return "opposes"
                if negated and stance == "opposes":
                    return "supports"
                return stance
        return "none"

    def _topic(self, text: str) -> str:
        words = _WORD.findall(text.lower())
        grams = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
        counts = Counter(self.terms[g] for g in grams if g in self.terms)
        return counts.most_common(1)[0][0] if counts else self.fallback

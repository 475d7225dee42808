"""The record returned for each sentence."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["Sentence"]


@dataclass(frozen=True)
class Sentence:
    """One tagged sentence.

    ``text == source[start:end]`` for the text it was cut from. ``topic_probs`` and
    ``stance_probs`` give the probability of every label of the model (summing to 1); ``topic``
    and ``stance`` are the most probable ones. A model trained without one of the two heads
    leaves that label ``None`` and its probabilities empty.

    >>> s = Sentence("Peace now.", 0, 10, "peace_process", "calls_for",
    ...              {"peace_process": 1.0}, {"calls_for": 1.0})
    >>> s.to_dict()["stance"]
    'calls_for'
    """

    text: str
    start: int
    end: int
    topic: str | None
    stance: str | None
    topic_probs: dict[str, float] = field(default_factory=dict)
    stance_probs: dict[str, float] = field(default_factory=dict)

    @property
    def topic_prob(self) -> float | None:
        """Probability of the chosen topic."""
        return self.topic_probs.get(self.topic) if self.topic is not None else None

    @property
    def stance_prob(self) -> float | None:
        """Probability of the chosen stance."""
        return self.stance_probs.get(self.stance) if self.stance is not None else None

    def to_dict(self) -> dict:
        """The record as a JSON-ready dict."""
        return asdict(self)

"""Sentences → one sparse TF-IDF matrix, shared by the topic and the stance heads.

A sentence becomes a bag of features:

* word n-grams (lower case, numbers folded to ``<num>``), with **negation scope**: the three
  words after a negator (not, never, n't, no, without, refuse…) are marked ``~word``, so
  "does not support" and "supports" are different features;
* **stance cues**: every word of a small general-English cue list adds a pooled feature
  (``@cue:support``, ``@cue:oppose``, ``@cue:call``, ``@cue:concern``, ``@cue:need``,
  ``@cue:procedure``), negated cues count apart, so rare synonyms share what common ones learnt;
  the first stance cue of the sentence also adds ``@first@cue:…``, since the first
  stance-bearing clause decides the label;
* **lexicon features**: an optional word list per class (e.g. hundreds of terms per topic)
  adds ``@lex:<class>`` for every listed word or two-word term found.

The fitted state is plain data (a vocabulary and an IDF vector) so that a model file never
needs pickle.

>>> f = Featurizer(min_df=1).fit(["We do not support sanctions.", "We support dialogue."])
>>> "~support" in f.vocabulary_ and "@cue:support" in f.vocabulary_
True
>>> f.transform(["Sanctions must go."]).shape[0]
1
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["Featurizer"]

_TOKEN = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*|[?!,;:()\u2014\u2013]")
_SCOPE_END = frozenset(",;:()?!\u2014\u2013")
_NEGATORS = frozenset(
    """not no never neither nor cannot without none nothing nobody hardly barely refuse refuses
    refused refusing fail fails failed declined declines decline""".split()
)
_NEGATION_SCOPE = 3

_CUE_WORDS: dict[str, str] = {}
for _cue, _words in {
    "support": """support supports supported supporting supportive welcome welcomes welcomed
        welcoming endorse endorses endorsed endorsing commend commends commended praise praises
        praised applaud applauds applauded congratulate congratulates congratulated
        congratulations thank thanks thanked grateful gratitude appreciate appreciates
        appreciated appreciation reaffirm reaffirms reaffirmed reaffirming committed commitment
        pledge pledges pledged contribute contributes contributed contribution allocated ratified
        ratify backs backed backing favour favor favours favors champion champions champions
        advocate advocates advocated tribute salute salutes hail hails hailed stands""",
    "oppose": """oppose opposes opposed opposing opposition condemn condemns condemned condemning
        condemnation reject rejects rejected rejecting rejection denounce denounces denounced
        criticize criticizes criticized criticise criticises criticised criticism deplore
        deplores deplored unacceptable illegal illegitimate unjust unjustified against object
        objects objected objection protest protests protested rules rule outrageous
        irresponsible violation violations aggression""",
    "concern": """concern concerns concerned worry worried worrying worries alarm alarmed alarming
        regret regrets regretted regrettable dismay dismayed disappointed disappointment
        disappointing troubled troubling dismal deplorable grave""",
    "call": """urge urges urged urging call calls called calling appeal appeals appealed demand
        demands demanded invite invites invited request requests requested ask asks asked
        encourage encourages encouraged exhort propose proposes proposed proposal insist insists
        insisted""",
    "need": """must should need needs needed necessary essential imperative important vital
        crucial time let ought require requires required urgent urgently high""",
    "procedure": """said says told met meeting held session addressed visit visited took place
        adopted tabled scheduled announced reported according""",
}.items():
    for _word in _words.split():
        _CUE_WORDS[_word] = "@cue:" + _cue


def _negated_variants(term: str) -> list[str]:
    """A lexicon term as it may appear in the features: with or without negation marks."""
    variants = [""]
    for word in term.split():
        variants = [f"{v} {mark}{word}".lstrip() for v in variants for mark in ("", "~")]
    return variants


class Featurizer:
    """Turn sentences into an L2-normalised TF-IDF matrix (``scipy.sparse.csr_matrix``).

    Parameters
    ----------
    ngram_max : int
        Longest word n-gram (1 = words only, 2 = words and word pairs).
    min_df : int
        Keep features seen in at least this many training sentences.
    negation : bool
        Mark the words in the scope of a negator.
    cues : bool
        Add the pooled stance-cue features.
    lexicon : mapping of str to list of str, optional
        Word lists per class; each listed word or two-word term adds ``@lex:<class>``.

    >>> Featurizer(min_df=1).fit(["Peace now."]).transform(["Peace now."]).nnz > 0
    True
    """

    def __init__(
        self,
        ngram_max: int = 2,
        min_df: int = 2,
        negation: bool = True,
        cues: bool = True,
        lexicon: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        if not isinstance(ngram_max, int) or ngram_max < 1:
            raise ValueError(f"ngram_max must be a positive integer, got {ngram_max!r}")
        if not isinstance(min_df, int) or min_df < 1:
            raise ValueError(f"min_df must be a positive integer, got {min_df!r}")
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.negation = bool(negation)
        self.cues = bool(cues)
        self.lexicon = {
            str(k): sorted({str(t).lower() for t in v}) for k, v in (lexicon or {}).items()
        }
        self._lexicon_index = {
            variant: "@lex:" + name
            for name, terms in self.lexicon.items()
            for term in terms
            for variant in _negated_variants(term)
        }
        self.vocabulary_: dict[str, int] = {}
        self.idf_: np.ndarray | None = None

    # -- analysis ---------------------------------------------------------------------------

    def analyze(self, text: str) -> list[str]:
        """The features of one sentence, before counting.

        >>> Featurizer(cues=False).analyze("We do not back it")
        ['we', 'do', 'not', '~back', '~it', 'we do', 'do not', 'not ~back', '~back ~it']
        """
        words: list[str] = []
        scope = 0
        for token in _TOKEN.findall(text.lower()):
            if token in _SCOPE_END:
                scope = 0
                if token in "?!":
                    words.append(token)
                continue
            if any(c.isdigit() for c in token):
                token = "<num>"
            if scope and self.negation:
                words.append("~" + token)
                scope -= 1
            else:
                words.append(token)
            if token in _NEGATORS or token.endswith(("n't", "n\u2019t")):
                scope = _NEGATION_SCOPE
        features = list(words)
        for n in range(2, self.ngram_max + 1):
            features.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
        n_grams = len(features)
        if self.cues:
            first = True
            for word in words:
                negated = word.startswith("~")
                cue = _CUE_WORDS.get(word[1:] if negated else word)
                if cue:
                    cue = cue + "~" if negated else cue
                    features.append(cue)
                    if first and cue != "@cue:procedure":
                        features.append("@first" + cue)  # the first stance cue decides
                        first = False
        if self._lexicon_index:
            lookup = self._lexicon_index.get
            features.extend(filter(None, map(lookup, features[:n_grams])))
        return features

    # -- fitting and transforming -------------------------------------------------------------

    def fit(self, texts: Iterable[str]) -> Featurizer:
        """Learn the vocabulary and the IDF weights from training sentences."""
        doc_freq: Counter[str] = Counter()
        n_docs = 0
        for text in texts:
            doc_freq.update(set(self.analyze(text)))
            n_docs += 1
        if n_docs == 0:
            raise ValueError("cannot fit a Featurizer on no sentences")
        kept = sorted(term for term, df in doc_freq.items() if df >= self.min_df)
        if not kept:
            raise ValueError(
                f"no feature occurs in {self.min_df} or more sentences; lower min_df or add data"
            )
        self.vocabulary_ = {term: i for i, term in enumerate(kept)}
        df = np.array([doc_freq[term] for term in kept], dtype=np.float64)
        self.idf_ = (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)
        return self

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Sentences → L2-normalised sublinear TF-IDF rows (float32 CSR)."""
        if self.idf_ is None:
            raise ValueError("this Featurizer is not fitted yet; call fit() first")
        vocabulary = self.vocabulary_
        indices: list[int] = []
        indptr = [0]
        for text in texts:
            indices.extend(j for j in map(vocabulary.get, self.analyze(text)) if j is not None)
            indptr.append(len(indices))
        matrix = sp.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), np.asarray(indices, dtype=np.int32), indptr),
            shape=(len(indptr) - 1, len(vocabulary)),
        )
        matrix.sum_duplicates()
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1.0
        matrix.data *= self.idf_[matrix.indices]
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        norms = np.sqrt(np.bincount(rows, weights=matrix.data**2, minlength=matrix.shape[0]))
        matrix.data /= norms[rows].astype(np.float32)
        return matrix

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """``fit(texts)`` then ``transform(texts)``."""
        return self.fit(texts).transform(texts)

    # -- plain-data state -----------------------------------------------------------------------

    def get_config(self) -> dict:
        """The constructor arguments, as JSON-ready data."""
        return {
            "ngram_max": self.ngram_max,
            "min_df": self.min_df,
            "negation": self.negation,
            "cues": self.cues,
            "lexicon": self.lexicon,
        }

    def get_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as arrays: the IDF vector and the vocabulary in column order, as
        UTF-8 bytes separated by newlines (no feature contains a newline)."""
        if self.idf_ is None:
            raise ValueError("this Featurizer is not fitted yet; call fit() first")
        joined = "\n".join(self.vocabulary_).encode("utf-8")
        return {"vocabulary": np.frombuffer(joined, dtype=np.uint8), "idf": self.idf_}

    @classmethod
    def from_state(cls, config: Mapping, arrays: Mapping[str, np.ndarray]) -> Featurizer:
        """Rebuild a fitted Featurizer from :meth:`get_config` and :meth:`get_arrays`."""
        featurizer = cls(**config)
        vocabulary = np.asarray(arrays["vocabulary"], dtype=np.uint8).tobytes().decode("utf-8")
        vocabulary = vocabulary.split("\n")
        featurizer.vocabulary_ = {term: i for i, term in enumerate(vocabulary)}
        if len(featurizer.vocabulary_) != len(vocabulary):
            raise ValueError("the vocabulary has repeated terms")
        featurizer.idf_ = np.asarray(arrays["idf"], dtype=np.float32)
        if featurizer.idf_.shape != (len(vocabulary),) or not math.isfinite(
            float(featurizer.idf_.sum())
        ):
            raise ValueError("the IDF vector does not match the vocabulary")
        return featurizer

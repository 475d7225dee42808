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
  adds ``@lex:<class>`` for every listed word or two-word term found;
* **polarity features**: optional evaluative word lists (e.g. ``positive``: "milestone",
  "long overdue"; ``negative``: "hollow", "toothless") add ``@pol:<list>`` for every listed
  term, and ``@pol:<list>~`` for one in the scope of a negation ("not a milestone"), so that an
  evaluation without a cue verb shares what the common evaluative words learnt.

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
from itertools import repeat

import numpy as np
import scipy.sparse as sp

__all__ = ["Featurizer"]

_TOKEN = re.compile(r"\w+(?:['\u2019\-]\w+)*|[?!,;:()\u2014\u2013]")
_SCOPE_END = frozenset(",;:()?!\u2014\u2013")
_NEGATORS = frozenset(
    """not no never neither nor cannot without none nothing nobody hardly barely refuse refuses
    refused refusing fail fails failed declined declines decline""".split()
)
_NEGATION_SCOPE = 3
_CONTRACTED = ("n't", "n\u2019t")  # a word ending so is a negator too
_SILENT_PUNCT = _SCOPE_END - {"?", "!"}
_DIGIT = re.compile(r"\d")

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


def _mark_negation(tokens: list[str], start: int = 0) -> list[str]:
    """Mark the words after a negator; punctuation (kept) ends the scope. No negator comes
    before ``start``, so the words before it are copied as they are."""
    words = tokens[:start]
    scope = 0
    for token in tokens[start:]:
        if token in _SCOPE_END:
            scope = 0
            words.append(token)
            continue
        if scope:
            words.append("~" + token)
            scope -= 1
        else:
            words.append(token)
        if token in _NEGATORS or token.endswith(_CONTRACTED):
            scope = _NEGATION_SCOPE
    return words


def _fold_number(word: str) -> str:
    """A word with a digit becomes ``<num>`` (``~<num>`` in the scope of a negation)."""
    if word.isalpha() or not _DIGIT.search(word):
        return word
    return "~<num>" if word.startswith("~") else "<num>"


def _word_lists(lists: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    """Word lists as plain data: names as strings, terms lower case, sorted, once each.

    >>> _word_lists({"good": ["Milestone", "milestone", "long overdue"]})
    {'good': ['long overdue', 'milestone']}
    """
    if lists is None:
        return {}
    if not isinstance(lists, Mapping):
        raise ValueError(f"word lists must map a name to a list of terms, got {lists!r:.80}")
    checked = {}
    for name, terms in lists.items():
        if isinstance(terms, str) or not isinstance(terms, (list, tuple, set, frozenset)):
            raise ValueError(f"word list {name!r} must be a list of terms, got {terms!r:.80}")
        bad = [t for t in terms if not isinstance(t, str) or not t.strip()]
        if bad:
            raise ValueError(f"word list {name!r} holds a term that is not a word: {bad[0]!r}")
        checked[str(name)] = sorted({t.lower() for t in terms})
    return checked


def _features_of_terms(
    lists: Mapping[str, Sequence[str]], prefix: str, negated_apart: bool
) -> dict[str, str]:
    """The pooled feature that each listed term adds, for every spelling of the term with or
    without negation marks; with ``negated_apart``, a negated spelling adds ``<feature>~``.

    >>> _features_of_terms({"good": ["milestone"]}, "@pol:", negated_apart=True)
    {'milestone': '@pol:good', '~milestone': '@pol:good~'}
    """
    return {
        variant: prefix + name + ("~" if negated_apart and "~" in variant else "")
        for name, terms in lists.items()
        for term in terms
        for variant in _negated_variants(term)
    }


def _negated_variants(term: str) -> list[str]:
    """A lexicon term as it may appear in the features: with or without negation marks."""
    variants = [""]
    for word in term.split():
        variants = [f"{v} {mark}{word}".lstrip() for v in variants for mark in ("", "~")]
    return variants


# Cue of each word, negated words ("~word") included; the procedure cue never counts as first.
_CUE_LOOKUP = {**_CUE_WORDS, **{"~" + word: cue + "~" for word, cue in _CUE_WORDS.items()}}
_NOT_FIRST = {"@cue:procedure", "@cue:procedure~"}
_SILENT = -2  # word id of the punctuation that ends a negation scope but is not a feature
_BREAK = -3  # word id of the break between two sentences of a batch
_BREAK_CHAR = "\x00"
_BATCH_TOKEN = re.compile(_TOKEN.pattern + "|" + _BREAK_CHAR)


def _batch_tokens(sentences: list[str]) -> list[str]:
    """The lower-case tokens of all the sentences, with a ``_BREAK_CHAR`` token between two
    sentences; one regex pass over the batch."""
    joined = _BREAK_CHAR.join(sentences)
    if joined.count(_BREAK_CHAR) != len(sentences) - 1:  # a sentence holds the character
        joined = _BREAK_CHAR.join(s.replace(_BREAK_CHAR, " ") for s in sentences)
    return _BATCH_TOKEN.findall(joined.lower())


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
    polarity : mapping of str to list of str, optional
        Evaluative word lists; each listed word or two-word term adds ``@pol:<list>``, or
        ``@pol:<list>~`` when a word of it is negated. A term listed twice in one mapping
        counts for the last list only; a term may be in both mappings.

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
        polarity: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        if not isinstance(ngram_max, int) or ngram_max < 1:
            raise ValueError(f"ngram_max must be a positive integer, got {ngram_max!r}")
        if not isinstance(min_df, int) or min_df < 1:
            raise ValueError(f"min_df must be a positive integer, got {min_df!r}")
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.negation = bool(negation)
        self.cues = bool(cues)
        self.lexicon = _word_lists(lexicon)
        self.polarity = _word_lists(polarity)
        # one look-up per mapping, so that a term in both adds both features
        self._lexicon_indexes = [
            index
            for index in (
                _features_of_terms(self.lexicon, "@lex:", negated_apart=False),
                _features_of_terms(self.polarity, "@pol:", negated_apart=True),
            )
            if index
        ]
        self.vocabulary_: dict[str, int] = {}
        self.idf_: np.ndarray | None = None
        self._index: _TermIndex | None = None

    # -- analysis ---------------------------------------------------------------------------

    def analyze(self, text: str) -> list[str]:
        """The features of one sentence, before counting.

        >>> Featurizer(cues=False).analyze("We do not back it")
        ['we', 'do', 'not', '~back', '~it', 'we do', 'do not', 'not ~back', '~back ~it']
        """
        features, n_grams = self._base_features(text)
        grams = features[:n_grams]
        for index in self._lexicon_indexes:
            features.extend(filter(None, map(index.get, grams)))
        return features

    def _base_features(self, text: str) -> tuple[list[str], int]:
        """All features but the lexicon ones, and how many of them are word n-grams."""
        words = [_fold_number(w) for w in self._words(text) if w not in _SILENT_PUNCT]
        features = list(words)
        if self.ngram_max >= 2:
            features.extend([f"{a} {b}" for a, b in zip(words, words[1:])])
        for n in range(3, self.ngram_max + 1):
            features.extend(map(" ".join, zip(*(words[k:] for k in range(n)))))
        n_grams = len(features)
        if self.cues:
            cues = [cue for cue in map(_CUE_LOOKUP.get, words) if cue]
            features.extend(cues)
            first = next((cue for cue in cues if cue not in _NOT_FIRST), None)
            if first:
                features.append("@first" + first)  # the first stance cue decides
        return features, n_grams

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
        self._index = None
        df = np.array([doc_freq[term] for term in kept], dtype=np.float64)
        self.idf_ = (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)
        return self

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Sentences → L2-normalised sublinear TF-IDF rows (float32 CSR).

        Counts the same features as :meth:`analyze` without building n-gram strings: the
        batch is tokenised in one pass, each word is looked up once in a word table, and numpy
        marks the negation scopes and finds the n-grams, the stance cues and the lexicon terms
        of the whole batch from the word ids (see :class:`_TermIndex`).
        """
        if self.idf_ is None:
            raise ValueError("this Featurizer is not fitted yet; call fit() first")
        index = self._term_index()
        sentences = texts if isinstance(texts, list) else list(texts)
        n_rows = len(sentences)
        word, row = index.word_ids(_batch_tokens(sentences), self.negation)
        terms, term_rows = index.grams(word, row)
        listed_columns, listed_rows = index.lexicon_features(terms, term_rows)
        own = terms < len(self.vocabulary_)  # the others are listed terms only
        columns = [terms[own], listed_columns]
        rows = [term_rows[own], listed_rows]
        if self.cues:
            cue_columns, cue_rows = index.cues(word, row)
            columns.append(cue_columns)
            rows.append(cue_rows)
        return self._tfidf(np.concatenate(columns), np.concatenate(rows), n_rows)

    def _words(self, text: str) -> list[str]:
        """The words of a sentence, negation marked; numbers are not folded yet and silent
        punctuation is kept."""
        lowered = text.lower()
        tokens = _TOKEN.findall(lowered)
        if self.negation:
            contracted = "n't" in lowered or "n\u2019t" in lowered
            negators = _NEGATORS.intersection(tokens)
            if negators or contracted:
                start = 0 if contracted else min(map(tokens.index, negators))
                return _mark_negation(tokens, start)
        return tokens

    def _tfidf(self, columns: np.ndarray, rows: np.ndarray, n_rows: int) -> sp.csr_matrix:
        """Count the vocabulary columns found in each row, then weight: sublinear TF times
        IDF, rows scaled to unit length."""
        width = len(self.vocabulary_)
        matrix = sp.csr_matrix(
            (np.ones(len(columns), dtype=np.float32), (rows, columns)), shape=(n_rows, width)
        )
        matrix.sum_duplicates()
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1.0
        matrix.data *= self.idf_[matrix.indices]
        rows = np.repeat(np.arange(n_rows), np.diff(matrix.indptr))
        norms = np.sqrt(np.bincount(rows, weights=matrix.data**2, minlength=n_rows))
        matrix.data /= norms[rows].astype(np.float32)
        return matrix

    def _term_index(self) -> _TermIndex:
        if self._index is None:
            self._index = _TermIndex(self.vocabulary_, self._lexicon_indexes, self.ngram_max)
        return self._index

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """``fit(texts)`` then ``transform(texts)``."""
        return self.fit(texts).transform(texts)

    # -- plain-data state -----------------------------------------------------------------------

    def get_config(self) -> dict:
        """The constructor arguments, as JSON-ready data (``polarity`` only when set, so that
        a model without it reads the same as before the option existed)."""
        config = {
            "ngram_max": self.ngram_max,
            "min_df": self.min_df,
            "negation": self.negation,
            "cues": self.cues,
            "lexicon": self.lexicon,
        }
        if self.polarity:
            config["polarity"] = self.polarity
        return config

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


class _TermIndex:
    """Integer look-up tables that let :meth:`Featurizer.transform` count with numpy.

    Every word of a known n-gram, and every cue word, gets an id. The n-grams are found level
    by level: a k-gram's id is the position of ``id of its first k-1 words * n_words + id of
    its last word`` in a sorted key array, found through an :class:`_IntTable` of the keys, so
    a batch's bigrams are one vectorised hash look-up.
    Term ids are vocabulary columns, then the listed terms outside the vocabulary;
    ``lexicon_columns[term id, k]`` is the column of the feature the term adds through the
    k-th word-list look-up (or -1).
    """

    def __init__(
        self,
        vocabulary: Mapping[str, int],
        lexicon_indexes: Sequence[Mapping[str, str]],
        ngram_max: int,
    ) -> None:
        terms = dict(vocabulary)
        found: list[tuple[int, int, int]] = []  # (term id, look-up, column)
        for k, lexicon_index in enumerate(lexicon_indexes):
            for term, feature in lexicon_index.items():
                column = vocabulary.get(feature)
                if column is not None:
                    found.append((terms.setdefault(term, len(terms)), k, column))
        self.lexicon_columns = np.full((len(terms), max(1, len(lexicon_indexes))), -1, np.int64)
        for term_id, k, column in found:
            self.lexicon_columns[term_id, k] = column
        self.listed = (self.lexicon_columns >= 0).any(axis=1)

        # words with a digit are read as <num>, so terms spelled with digits never occur
        grams, gram_terms = [], []
        for term, i in terms.items():
            if term[:1] != "@" and not _DIGIT.search(term):
                gram = term.split(" ")
                if len(gram) <= ngram_max:
                    grams.append(gram)
                    gram_terms.append(i)
        names = dict.fromkeys(word for gram in grams for word in gram)
        names.update(dict.fromkeys(_CUE_LOOKUP))
        names.update(dict.fromkeys(sorted(_NEGATORS | (_SCOPE_END - _SILENT_PUNCT))))
        self.words = {word: i for i, word in enumerate(names)}
        self.n_words = n_words = len(self.words)
        self.negator = np.array([w in _NEGATORS or w.endswith(_CONTRACTED) for w in names])
        self.ends_scope = np.array([w in _SCOPE_END for w in names])
        self.negated = np.array([self.words.get("~" + w, -1) for w in names], dtype=np.int64)
        self.words.update(dict.fromkeys(_SILENT_PUNCT, _SILENT))
        self.words[_BREAK_CHAR] = _BREAK

        ids = [[self.words[word] for word in gram] for gram in grams]
        lengths = np.array([len(gram) for gram in grams], dtype=np.int64)
        term_ids = np.array(gram_terms, dtype=np.int64)
        node = np.array([gram[0] for gram in ids], dtype=np.int64)  # level 1: the word id
        self.unigram = np.full(n_words, -1, dtype=np.int64)
        self.unigram[node[lengths == 1]] = term_ids[lengths == 1]
        self.levels: list[tuple[_IntTable, np.ndarray]] = []
        for size in range(2, ngram_max + 1):
            longer = np.flatnonzero(lengths >= size)
            last = np.array([ids[i][size - 1] for i in longer.tolist()], dtype=np.int64)
            keys, prefix_node = np.unique(node[longer] * n_words + last, return_inverse=True)
            term_of_node = np.full(len(keys), -1, dtype=np.int64)
            exact = lengths[longer] == size
            term_of_node[prefix_node[exact]] = term_ids[longer[exact]]
            self.levels.append((_IntTable(keys), term_of_node))
            node = np.full(len(grams), -1, dtype=np.int64)
            node[longer] = prefix_node

        kinds = sorted(set(_CUE_LOOKUP.values()))
        self.cue_kind = np.full(n_words, -1, dtype=np.int64)
        for word, cue in _CUE_LOOKUP.items():
            self.cue_kind[self.words[word]] = kinds.index(cue)
        self.cue_term = np.array([vocabulary.get(cue, -1) for cue in kinds], dtype=np.int64)
        self.first_term = np.array([vocabulary.get("@first" + c, -1) for c in kinds], np.int64)
        self.can_be_first = np.array([cue not in _NOT_FIRST for cue in kinds])

    def word_ids(self, tokens: list[str], negation: bool) -> tuple[np.ndarray, np.ndarray]:
        """Word ids of a batch's tokens (from :func:`_batch_tokens`) and the row of each.

        With ``negation``, a word in the scope of a negator (up to three words after it, up
        to a scope-ending punctuation mark) takes the id of its ``~word`` form. An unknown word
        with a digit takes the id of ``<num>``, other unknown words -1. The sentence breaks and
        the silent punctuation are dropped.
        """
        word = np.fromiter(map(self.words.get, tokens, repeat(-1)), np.int64, len(tokens))
        row = np.cumsum(word == _BREAK)
        unknown = np.flatnonzero(word == -1).tolist()
        marked = np.zeros(len(word), dtype=bool)
        if negation:
            known = word >= 0
            ids = np.where(known, word, 0)
            negator = known & self.negator[ids]
            negator[unknown] = [tokens[i].endswith(_CONTRACTED) for i in unknown]
            ends = np.where(known, self.ends_scope[ids], word <= _SILENT)
            position = np.arange(len(word))
            last_negator = np.full(len(word), -1, dtype=np.int64)  # strictly before a token
            np.maximum.accumulate(np.where(negator, position, -1)[:-1], out=last_negator[1:])
            last_end = np.maximum.accumulate(np.where(ends, position, -1))
            marked = (last_negator > last_end) & (position - last_negator <= _NEGATION_SCOPE)
            marked &= ~ends
            flip = np.flatnonzero(marked & known)
            word[flip] = self.negated[word[flip]]
        for i, negated in zip(unknown, marked[unknown].tolist()):
            token = "~" + tokens[i] if negated else tokens[i]
            word[i] = self.words.get(_fold_number(token), -1)  # numbers may become known
        spoken = word >= -1
        return word[spoken], row[spoken]

    def grams(self, word: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Term ids of the known n-grams of a batch, and their rows.

        ``word`` holds the word ids of all sentences end to end (-1 for unknown words) and
        ``row`` the sentence of each; n-grams never cross sentences.
        """
        known = word >= 0
        node = word  # a word's id is its node at level 1
        unigram = np.full(len(word), -1, dtype=np.int64)
        unigram[known] = self.unigram[word[known]]
        found_terms, found_rows = [unigram], [row]
        for size, (table, term_of_node) in enumerate(self.levels, start=2):
            n_grams = len(word) - size + 1
            if n_grams <= 0 or not len(term_of_node):
                break
            last = word[size - 1 :]
            usable = np.flatnonzero(
                (node[:n_grams] >= 0) & (last >= 0) & (row[:n_grams] == row[size - 1 :])
            )
            key = node[usable] * self.n_words + last[usable]
            position = table.find(key)
            match = position >= 0
            node = np.full(n_grams, -1, dtype=np.int64)
            node[usable[match]] = position[match]
            term = np.full(n_grams, -1, dtype=np.int64)
            term[usable[match]] = term_of_node[position[match]]
            found_terms.append(term)
            found_rows.append(row[:n_grams])
        terms, rows = np.concatenate(found_terms), np.concatenate(found_rows)
        keep = terms >= 0
        return terms[keep], rows[keep]

    def lexicon_features(
        self, terms: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Columns of the word-list features that the listed terms among ``terms`` add, and
        their rows (only the few listed terms are looked up)."""
        listed = np.flatnonzero(self.listed[terms])
        columns = self.lexicon_columns[terms[listed]]
        found = columns >= 0
        return columns[found], np.broadcast_to(rows[listed, None], columns.shape)[found]

    def cues(self, word: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Term ids of the pooled cue features and of each sentence's first stance cue."""
        has_cue = np.flatnonzero(word >= 0)
        kind = self.cue_kind[word[has_cue]]
        has_cue, kind = has_cue[kind >= 0], kind[kind >= 0]
        cue_rows = row[has_cue]
        first = self.can_be_first[kind]
        first_rows, first_at = np.unique(cue_rows[first], return_index=True)
        terms = np.concatenate([self.cue_term[kind], self.first_term[kind[first][first_at]]])
        rows = np.concatenate([cue_rows, first_rows])
        keep = terms >= 0
        return terms[keep], rows[keep]


class _IntTable:
    """A hash table from distinct non-negative int64 keys to their positions in ``keys``,
    looked up an array at a time: open addressing with linear probing, each probe one numpy
    gather for all the keys still unresolved (a few times faster than ``searchsorted`` on a
    large sorted array).

    >>> _IntTable(np.array([7, 300, 2**40])).find(np.array([300, 5, 2**40])).tolist()
    [1, -1, 2]
    """

    _FIBONACCI = np.uint64(0x9E3779B97F4A7C15)  # multiplicative hashing: 2**64 / golden ratio

    def __init__(self, keys: np.ndarray) -> None:
        bits = max(4, (2 * len(keys) - 1).bit_length())  # at most half full
        self._shift = np.uint64(64 - bits)
        self._mask = (1 << bits) - 1
        self._keys = np.full(1 << bits, -1, dtype=np.int64)
        self._positions = np.full(1 << bits, -1, dtype=np.int64)
        slot = self._home(keys)
        pending = np.arange(len(keys))
        self._probes = 0  # no key sits further than this many slots from its home slot
        while len(pending):
            self._probes += 1
            free = pending[self._keys[slot[pending]] == -1]
            _, first = np.unique(slot[free], return_index=True)  # one key per free slot
            placed = free[first]
            self._keys[slot[placed]] = keys[placed]
            self._positions[slot[placed]] = placed
            waiting = np.ones(len(keys), dtype=bool)
            waiting[placed] = False
            pending = pending[waiting[pending]]
            slot[pending] = (slot[pending] + 1) & self._mask

    def _home(self, keys: np.ndarray) -> np.ndarray:
        return ((keys.astype(np.uint64) * self._FIBONACCI) >> self._shift).astype(np.int64)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The position of each key in the table's keys, or -1."""
        found = np.full(len(keys), -1, dtype=np.int64)
        slot = self._home(keys)
        active = np.arange(len(keys))
        for _ in range(self._probes):
            stored = self._keys[slot]
            hit = stored == keys[active]
            found[active[hit]] = self._positions[slot[hit]]
            going = ~hit & (stored != -1)
            active, slot = active[going], (slot[going] + 1) & self._mask
            if not len(active):
                break
        return found

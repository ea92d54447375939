"""How errlens reads words: one tokenisation for the vocabulary, the masks and the engines.

A text is lowercased and split on every run of characters that are not letters, digits or
``_``; the pieces of two characters or more are its **tokens** (scikit-learn's default
``token_pattern``, ``(?u)\\b\\w\\w+\\b``, gives the same tokens). A **term** is one token or two
adjacent tokens (a one-character word between them, such as "a", does not break the pair, as
in scikit-learn, which never sees it). ``text contains term`` means its tokens contain the term's
tokens in a row.

The same rule is written three ways: Arrow's RE2 splits the column when the vocabulary is built
(letters and digits are Unicode classes ``\\pL`` and ``\\pN``), Python's ``re`` (``\\w``) masks
a term that is not in the vocabulary, and DuckDB / Spark get the RE2 pattern of
:func:`engine_pattern` over the lowercased column. Python's ``\\w`` and ``[\\pL\\pN_]`` agree
on letters and digits of every script; they can differ on rare characters (e.g. combining
marks are separators in both, but some symbols that Python counts as numeric are not ``\\pN``).

>>> tokens("Don't watch the SEQUEL, a real let-down!")
['don', 'watch', 'the', 'sequel', 'real', 'let', 'down']
>>> term_mask(["the sequel was bad", "sequels", "a Sequel"], "sequel").tolist()
[True, False, True]
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

SEPARATOR = r"[^\pL\pN_]+"
"""RE2 pattern of what separates tokens (Arrow splits on it)."""
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS)
"""scikit-learn's English stop words: never a term alone, nor a pair of two of them."""
_WORD = re.compile(r"\w+")
_ENGINE_WORD = r"[\pL\pN_]"
_ENGINE_GAP = r"[^\pL\pN_]"


def tokens(text: str) -> list[str]:
    """The tokens of ``text`` (lowercased words of two characters or more)."""
    return [word for word in _WORD.findall(text.lower()) if len(word) >= 2]


def normalize(term: str) -> str:
    """A term as the vocabulary spells it: its tokens joined by one space; a term without
    any token (e.g. ``"a"`` or ``"!!"``) is a ValueError.

    >>> normalize("  Not   GOOD ")
    'not good'
    """
    found = tokens(term)
    if not found:
        raise ValueError(
            f"the term {term!r} has no word of two letters or digits or more: errlens matches "
            "whole words, so such a term can never be found; pick a longer word"
        )
    return " ".join(found)


def is_kept(term_tokens: Sequence[str]) -> bool:
    """Whether a term enters the vocabulary: a word that is no stop word, or a pair of
    words that are not both stop words.

    >>> is_kept(["the"]), is_kept(["the", "sequel"]), is_kept(["of", "the"])
    (False, True, False)
    """
    return not all(token in STOP_WORDS for token in term_tokens)


def term_mask(texts: Sequence[str], term: str) -> np.ndarray:
    """Rows of ``texts`` containing ``term`` (Python's ``re``; the vocabulary's rows agree)."""
    pattern = _python_pattern(normalize(term).split())
    return np.fromiter((pattern.search(text.lower()) is not None for text in texts),
                       dtype=bool, count=len(texts))


def engine_pattern(term: str) -> str:
    """The RE2 pattern (DuckDB ``regexp_matches``, Spark ``rlike``) of ``term`` over the
    lowercased text.

    >>> engine_pattern("Not good")
    '(^|[^\\\\pL\\\\pN_])not(?:[^\\\\pL\\\\pN_]+[\\\\pL\\\\pN_])*[^\\\\pL\\\\pN_]+good([^\\\\pL\\\\pN_]|$)'
    """
    words = normalize(term).split()
    middle = f"(?:{_ENGINE_GAP}+{_ENGINE_WORD})*{_ENGINE_GAP}+".join(words)
    return f"(^|{_ENGINE_GAP}){middle}({_ENGINE_GAP}|$)"


def _python_pattern(words: list[str]) -> re.Pattern[str]:
    middle = r"(?:\W+\w)*\W+".join(re.escape(word) for word in words)
    return re.compile(rf"(?<!\w){middle}(?!\w)")

"""A question's key terms: the words that say what it is about, not what kind of answer it
wants ("which documents …", "how many …").

Retrieval weighs each candidate passage by the share of these it holds, and the evidence
check asks that enough of them appear before answering. An acronym and the long form the
papers define for it ("PCC" / "Police and Crime Commissioner") are one concept, held when
either form is there, so a passage is not rewarded for repeating one long name four times.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from ingest.acronyms import Glossary
from ingest.keyword_index import KeywordIndex, Tokenizer

# Words that say what kind of answer is wanted, not what it is about.
QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how many much does do did is are was were "
    "according documents document papers paper report reports mention mentioned say said "
    "there any about across give list part parts deal deals dealt discuss discusses discussed "
    "address addresses addressed raise raises raised refer refers referred".split()
)  # fmt: skip


# A term: a word, or words joined by hyphens ("self-harm", "re-offending").
_TERM = r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"
_COMPOUND = re.compile(r"\b[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+\b")
_ALTERNATIVES = re.compile(rf"\b(?P<first>{_TERM}) or (?P<second>{_TERM})\b")


@cache
def question_stems() -> frozenset[str]:
    return frozenset(Tokenizer()(" ".join(QUESTION_WORDS)))


def key_stems(question: str, tokenizer: Tokenizer) -> set[str]:
    """The question's stems less those of `QUESTION_WORDS`."""
    return {stem for stem in tokenizer(question) if stem not in question_stems()}


@dataclass(frozen=True)
class Concept:
    forms: tuple[frozenset[str], ...]  # a passage holds the concept when it has every stem of one
    weight: float  # inverse document frequency: rare terms say more about what is asked


def key_concepts(
    question: str,
    glossary: Glossary,
    tokenizer: Tokenizer,
    document_frequency: Callable[[str], int],
    documents: int,
) -> list[Concept]:
    """The question's key terms as concepts: each acronym or defined long form it uses (both
    forms together), then each remaining key stem the papers use, on its own."""

    def rarity(stem: str) -> float:
        frequency = document_frequency(stem)
        return math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))

    concepts: list[Concept] = []
    taken: set[str] = set()
    for acronym, long_form in glossary.pairs_used(question):
        forms = (frozenset(tokenizer(acronym)), frozenset(tokenizer(long_form)))
        stems = forms[0] | forms[1]
        if not stems or stems <= taken:
            continue
        taken |= stems
        concepts.append(Concept(forms, max(rarity(stem) for stem in stems)))
    for match in _ALTERNATIVES.finditer(question):
        # "suicide or self-harm": a passage that names either answers; "self-harm" is one term
        either = tuple(
            frozenset(stem for stem in tokenizer(side) if stem not in question_stems())
            for side in (match.group("first"), match.group("second"))
        )
        stems = either[0] | either[1]
        if not all(either) or stems & taken or not any(map(document_frequency, stems)):
            continue
        taken |= stems
        concepts.append(Concept(either, max(rarity(stem) for stem in stems)))
    for match in _COMPOUND.finditer(question):
        stems = frozenset(tokenizer(match.group(0))) - question_stems()
        if len(stems) < 2 or stems & taken or not all(map(document_frequency, stems)):
            continue
        taken |= stems
        concepts.append(Concept((stems,), max(rarity(stem) for stem in stems)))
    for stem in dict.fromkeys(tokenizer(question)):
        if stem in taken or stem in question_stems():
            continue
        if not document_frequency(stem):
            # No live paper uses the word (a paraphrase's): it tells no passage from another,
            # and would count against every one.
            continue
        taken.add(stem)
        concepts.append(Concept((frozenset({stem}),), rarity(stem)))
    return concepts


def coverage(
    concepts: list[Concept], holding: Callable[[str], np.ndarray], size: int
) -> np.ndarray:
    """Per passage, the share of the concepts' weight it holds; `holding(stem)` says, per
    passage, whether it has the stem."""
    total = sum(concept.weight for concept in concepts)
    if not total:
        return np.ones(size)
    held = np.zeros(size)
    for concept in concepts:
        has = np.zeros(size, dtype=bool)
        for form in concept.forms:
            has |= np.logical_and.reduce([holding(stem) for stem in form])
        held += concept.weight * has
    return held / total


def key_concepts_in(
    question: str, keyword_index: KeywordIndex, glossary: Glossary
) -> list[Concept]:
    """`key_concepts` weighed by how rare each stem is among the live chunks."""
    return key_concepts(
        question,
        glossary,
        keyword_index.tokenizer,
        lambda stem: int(keyword_index.holding(stem).sum()),
        len(keyword_index),
    )


def share_held(concepts: list[Concept], stems: set[str]) -> float:
    """`coverage` of one text, given its stems."""
    return float(coverage(concepts, lambda stem: np.array([stem in stems]), 1)[0])

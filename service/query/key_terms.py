"""A question's key terms: the words that say what it is about, not what kind of answer it
wants ("which documents …", "how many …").

Retrieval weighs each candidate passage by the share of these it holds, and the evidence
check asks that enough of them appear before answering. Terms are grouped into concepts: an
acronym and the long form the papers define for it ("PCC" / "Police and Crime Commissioner")
are one, held when either form is there, so a passage is not rewarded for repeating one long
name four times; so are "suicide or self-harm" (either) and "self-harm" (both words, or
"selfharm" written as one).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from ingest.store.keyword_index import KeywordIndex
from ingest.text.acronyms import Glossary
from ingest.text.tokens import Tokenizer, compounds_apart, compounds_joined, normalised
from ingest.text.words import ANSWER_KIND_WORDS

# A term: a word, or words joined by hyphens ("self-harm", "re-offending").
_TERM = r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"
_COMPOUND = re.compile(r"\b[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+\b")
# "suicide or self-harm", "drugs, alcohol or gambling", "fraud or theft or burglary"
_ALTERNATIVES = re.compile(rf"\b{_TERM}(?:, {_TERM})*,? or {_TERM}(?: or {_TERM})*\b")
_ALTERNATIVE = re.compile(_TERM)
# "drugs or alcohol or both": words that close a list of alternatives without adding one
_NOT_AN_ALTERNATIVE = frozenset("or both either neither none all any other others".split())


@cache
def question_stems() -> frozenset[str]:
    return frozenset(Tokenizer()(" ".join(ANSWER_KIND_WORDS)))


def key_stems(question: str, tokenizer: Tokenizer) -> set[str]:
    """The question's stems less those of `ANSWER_KIND_WORDS`; a hyphenated word counts as its
    words, so a passage writing them apart holds it as well as one hyphenating it."""
    stems = tokenizer(compounds_apart(question))
    return {stem for stem in stems if stem not in question_stems()}


def spellings(text: str, tokenizer: Tokenizer) -> tuple[frozenset[str], ...]:
    """The stems a passage must hold to say `text`, once per spelling: a hyphenated word
    may be written with its parts apart ("self harm", "multi agency") or as one word
    ("wellbeing"), and the tokenizer gives a hyphenated word both, so either spelling in a
    passage holds it. The spelling with the parts apart comes first."""
    apart = frozenset(tokenizer(compounds_apart(text)))
    joined = frozenset(tokenizer(compounds_joined(text)))
    return (apart,) if joined == apart else (apart, joined)


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
    forms together), each "A or B" or "A, B or C" (any one), each hyphenated term (all its
    words, or the one word they make), then each remaining key stem the papers use, on its
    own."""
    # typeset hyphens read as "-" by the patterns below; the glossary matches the text as typed
    hyphenated = normalised(question)
    concepts: list[Concept] = []
    taken: set[str] = set()

    def spelled(text: str) -> tuple[frozenset[str], ...]:
        # a word as one ("selfharm") that no paper writes: no passage could hold it that way
        written, *joined = spellings(text, tokenizer)
        return (written, *(form for form in joined if all(map(document_frequency, form))))

    def take(
        forms: tuple[frozenset[str], ...], weighed: tuple[frozenset[str], ...] | None = None
    ) -> None:
        """A concept of `forms`, as rare as the rarest stem of `weighed` (all the forms when
        not given): the spellings with a compound's parts apart, since the word as one is
        rarer only for being a spelling."""
        # an acronym made of stopwords ("WHO", "IT") has no stems: a form without any would
        # be held by every passage
        forms = tuple(form for form in forms if form)
        stems = frozenset().union(*(form for form in weighed or forms if form))
        if not forms or not stems:
            return
        taken.update(frozenset().union(*forms))
        frequencies = [document_frequency(stem) for stem in stems]
        rarity = max(math.log(1 + (documents - f + 0.5) / (f + 0.5)) for f in frequencies)
        concepts.append(Concept(forms, rarity))

    for acronym, long_form in glossary.pairs_used(question):
        acronym_forms, long_forms = spelled(acronym), spelled(long_form)
        pair = (*acronym_forms, *long_forms)
        if frozenset().union(*pair) - taken:
            take(pair, weighed=(acronym_forms[0], long_forms[0]))
    for match in _ALTERNATIVES.finditer(hyphenated):
        # "suicide or self-harm": a passage that names any one answers
        sides = _alternatives(match.group(0))
        each_side = [
            forms
            for forms in (tuple(f - question_stems() for f in spelled(side) if f) for side in sides)
            if forms and all(forms)  # not a side made only of question words
        ]
        anyof = tuple(form for forms in each_side for form in forms)
        stems = frozenset().union(*anyof)
        if len(each_side) > 1 and not stems & taken and any(map(document_frequency, stems)):
            take(anyof, weighed=tuple(forms[0] for forms in each_side))
    for match in _COMPOUND.finditer(hyphenated):
        written, *joined = (form - question_stems() for form in spelled(match.group(0)))
        stems = written.union(*joined)
        if len(written) > 1 and not stems & taken and all(map(document_frequency, written)):
            take((written, *joined), weighed=(written,))
    for stem in dict.fromkeys(tokenizer(compounds_apart(hyphenated))):
        # A word no live paper uses (a paraphrase's) tells no passage from another, and would
        # count against every one. A compound not taken above counts as its words.
        if stem not in taken and stem not in question_stems() and document_frequency(stem):
            take((frozenset({stem}),))
    return concepts


def _alternatives(listed: str) -> list[str]:
    """The terms of "A, B or C", less any leading item written unlike the last: in "In
    Oxfordshire, drugs or alcohol" the comma ends an opening phrase, not a list item."""
    sides = [s for s in _ALTERNATIVE.findall(listed) if s.lower() not in _NOT_AN_ALTERNATIVE]
    if not sides:
        return []
    last_is_capital = sides[-1][:1].isupper()
    before_or = listed.split(" or ", 1)[0].count(",")
    while before_or and sides[0][:1].isupper() != last_is_capital:
        sides.pop(0)
        before_or -= 1
    return sides


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

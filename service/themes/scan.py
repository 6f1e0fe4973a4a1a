"""Theme scan: every paragraph of the live papers that mentions a theme, not a top k.

Recall first: every term of the theme (its phrases, the words that carry them, the acronyms
the corpus defines for them, near-synonyms from the embedding space) is matched against every
paragraph, and a dense sweep over the chunks nearest the theme adds paragraphs no term found.
Then precision: a paragraph the sweep found is kept only when one of its sentences is itself
close to the theme.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ingest.store.index import PaperIndex, SearchFilters
from ingest.text.sentences import sentence_spans
from ingest.text.tokens import Token
from ingest.text.words import THEME_FRAME_WORDS
from service.themes.corpus import CorpusParagraphs, Paragraph, Readable
from service.themes.kinds import PlaceKind, kinds_asked_for, place_kind
from service.themes.terms import (
    STAND_IN_SHARE,
    Term,
    acronym_terms,
    anchor_words,
    coherent,
    content_stems,
    held_term,
    nearest_corpus_terms,
    phrase_term,
    theme_phrases,
    wider_runs,
    written_as_name,
)

log = logging.getLogger(__name__)

# Chunks the dense sweep looks at, and the similarity a chunk needs to be looked into.
SWEEP_CHUNKS = 60
SWEEP_MIN_SIMILARITY = 0.45
# A swept paragraph is kept when one of its sentences is at least this close to the theme.
CHECK_MIN_SIMILARITY = 0.62
# A reader's term that finds more places than the theme's first term must have its own places
# this share of the way from the papers at large to the first term's (see `coherent`).
SWAMP_SHARE = 0.4


@dataclass
class Place:
    paragraph: Paragraph
    kind: PlaceKind
    quote: str
    found_by: str  # "term" or "sweep"


@dataclass
class ThemeScan:
    theme: str
    terms: list[Term]
    kinds_asked: list[PlaceKind]
    places: list[Place] = field(default_factory=list)


class ThemeScanner:
    def __init__(self, index: PaperIndex) -> None:
        self.index = index
        self._corpus: CorpusParagraphs | None = None
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def corpus(self) -> CorpusParagraphs:
        generation = self.index.manifest.generation()
        with self._lock:
            if self._corpus is None or self._corpus.generation != generation:
                chunks = self.index.manifest.live_chunks()
                self._corpus = CorpusParagraphs.build(chunks, generation)
                self._vectors = {}
            return self._corpus

    def corpus_built(self) -> bool:
        """Whether the paragraph index is built (for any generation): the served app builds
        it in the background at start."""
        return self._corpus is not None

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embeddings of short texts, remembered: themes and terms recur across requests."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vector in zip(
                missing, self.index.embeddings.embed_documents(missing), strict=True
            ):
                self._vectors[text] = np.asarray(vector, dtype=np.float32)
        return [self._vectors[t].tolist() for t in texts]

    def terms(self, theme: str, admitted: set[str] | None = None) -> list[Term]:
        """The theme's terms, weighed and learned only on the `admitted` papers (all when
        None): how the reader's words are read, and every term added, never tells a caller of
        a paper it may not read."""
        corpus = self.corpus()
        readable = Readable(corpus, admitted)

        def holds(term: Term) -> bool:
            return bool(readable.find(term))

        phrases = theme_phrases(theme, lambda phrase: holds(phrase_term(phrase)))
        terms = _unique([held_term(phrase, holds) for phrase in phrases])
        terms = self._coherent_words(theme, terms, readable)
        terms = self._unswamped(terms, readable)
        phrases = [term.text for term in terms]  # a word dropped is no seed of others either
        terms += self._coherent_runs(theme, terms, readable)
        # Acronyms are learned for the reader's own phrases, not for single words of them.
        terms += acronym_terms(corpus.acronyms, terms)
        terms += self._coherent_anchors(phrases, readable)
        terms = _unique(terms)
        matched = {position for term in terms for position in readable.find(term)}
        candidates = _cooccurring_terms(corpus, matched)
        known = {t.stems for t in terms}
        terms += nearest_corpus_terms(phrases, candidates, known, self.embed)
        terms = _unique(terms)
        if admitted is None:
            return terms
        # An acronym's long form found only in papers the caller may not read would name what
        # they say (the glossary is the whole corpus's): kept are the reader's own words and
        # terms found here.
        return [term for term in terms if term.source == "theme" or holds(term)]

    def _coherent_anchors(self, phrases: list[str], readable: Readable) -> list[Term]:
        """The phrases' single-word stand-ins whose own passages are about the phrase (none
        for a phrase the papers never use: nothing to weigh a stand-in against)."""
        anchors = []
        for word, phrase in anchor_words(phrases, self.embed, readable.share):
            own = set(readable.find(phrase))
            if own and self._coherent(word, self._nearness(phrase.text, readable), own, readable):
                anchors.append(word)
        return anchors

    def _coherent_runs(self, theme: str, terms: list[Term], readable: Readable) -> list[Term]:
        """The runs of the reader's long phrases (`wider_runs`) whose own places, beyond the
        phrase's, are about the phrase (`coherent` against it, the bar at `SWAMP_SHARE`), or,
        for a phrase the papers never write, nearer to it than the papers at large. A name the
        reader wrote in capitals is not broken."""
        kept = []
        for term in terms:
            if written_as_name(term.text, theme):
                continue
            runs = wider_runs(term, lambda run: len(readable.find(run)))
            if not runs:
                continue
            own = set(readable.find(term))
            nearness = self._nearness(term.text, readable)
            kept += [
                run
                for run in runs
                if self._coherent(
                    run, nearness, own, readable, against_phrase=bool(own), share=SWAMP_SHARE
                )
            ]
        return kept

    def _coherent_words(self, theme: str, terms: list[Term], readable: Readable) -> list[Term]:
        """The theme's terms less the reader's single words ("pass" of "16+ pass") whose own
        passages, beyond those its longer phrases find, are not about the theme: a word that
        is the whole theme always stays."""
        longer = [term for term in terms if len(term.stems) > 1]
        if not longer or len(longer) == len(terms):
            return terms
        found_by_longer = {position for term in longer for position in readable.find(term)}
        nearness = self._nearness(theme, readable)  # one search for all the theme's words
        return [
            term
            for term in terms
            if len(term.stems) > 1
            or self._coherent(term, nearness, found_by_longer, readable, against_phrase=False)
        ]

    def _unswamped(self, terms: list[Term], readable: Readable) -> list[Term]:
        """The reader's terms less those that would swamp the theme: a term finding more places
        than the first term the papers hold ("finances" beside "inflation" in "inflation and
        its effect on the council's finances"), or only a run of the reader's phrase ("council's
        budget" of "its effect on the council's budget"), stays only when its own places are
        about that first term (`coherent` against it, the bar lowered to `SWAMP_SHARE`)."""
        found = {term: set(readable.find(term)) for term in terms}
        first = next((term for term in terms if found[term]), None)
        if first is None:
            return terms
        nearness: dict[str, float] | None = None
        kept = []
        for term in terms:
            if term is not first and (len(found[term]) > len(found[first]) or term.source == "run"):
                nearness = nearness or self._nearness(first.text, readable)
                if not self._coherent(term, nearness, found[first], readable, share=SWAMP_SHARE):
                    continue
            kept.append(term)
        return kept

    def _nearness(self, about: str, readable: Readable) -> dict[str, float]:
        """Every readable live chunk's closeness to `about`, by chunk id."""
        corpus = readable.corpus
        near = self.index.dense_search(self.embed([about])[0], corpus.chunk_count)
        if readable.admitted is None:
            return dict(near)
        admitted = readable.admitted
        return {chunk_id: s for chunk_id, s in near if chunk_id.split(":", 1)[0] in admitted}

    @staticmethod
    def _coherent(
        word: Term,
        nearness: dict[str, float],
        with_phrase: set[int],
        readable: Readable,
        *,
        against_phrase: bool = True,
        share: float = STAND_IN_SHARE,
    ) -> bool:
        """Whether the passages `word` finds beyond `with_phrase` are about what `nearness`
        measures closeness to (`coherent`): nearer to it than the papers at large, and,
        `against_phrase`, about as near as the phrase's own passages (a stand-in must be; the
        reader's own word, "homelessness" beside "rough sleeping", need not)."""
        baseline = float(np.mean(list(nearness.values()))) if nearness else 0.0
        alone = set(readable.find(word)) - with_phrase

        def sims(positions: set[int]) -> list[float]:
            chunk_ids = {readable.corpus.paragraphs[p].chunk.chunk_id for p in positions}
            return [nearness.get(chunk_id, 0.0) for chunk_id in chunk_ids]

        return coherent(sims(alone), sims(with_phrase) if against_phrase else [], baseline, share)

    def scan(
        self,
        theme: str,
        filters: SearchFilters | None = None,
        kinds: list[PlaceKind] | None = None,
    ) -> ThemeScan:
        corpus = self.corpus()
        documents = self.index.documents()
        admitted = {
            doc.meta.doc_id for doc in documents if filters is None or filters.admits(doc.meta)
        }
        terms = self.terms(theme, admitted if len(admitted) < len(documents) else None)
        found: dict[int, list[Token]] = {}
        for term in terms:
            for position, hit in corpus.find(term).items():
                if corpus.paragraphs[position].chunk.doc_id in admitted:
                    found.setdefault(position, []).extend(hit)
        places = [self._place(corpus.paragraphs[p], _quote_of(corpus.paragraphs[p], hits), "term")
                  for p, hits in found.items()]  # fmt: skip
        places += self._sweep(theme, corpus, set(found), filters)
        if kinds:
            places = [place for place in places if place.kind in kinds]
        places.sort(key=lambda place: place.paragraph.position)
        return ThemeScan(theme, terms, kinds_asked_for(theme), places)

    def _sweep(
        self, theme: str, corpus: CorpusParagraphs, seen: set[int], filters: SearchFilters | None
    ) -> list[Place]:
        """Paragraphs no term found, in chunks near the theme, whose sentence is near it too."""
        theme_vector = np.asarray(self.embed([theme])[0])
        near = self.index.dense_search(theme_vector.tolist(), SWEEP_CHUNKS, filters)
        chunk_ids = {
            chunk_id for chunk_id, similarity in near if similarity >= SWEEP_MIN_SIMILARITY
        }
        candidates = [p for p in corpus.paragraphs
                      if p.chunk.chunk_id in chunk_ids and p.position not in seen]  # fmt: skip
        sentences = [(p, p.text[s:e]) for p in candidates for s, e in sentence_spans(p.text)]
        if not sentences:
            return []
        vectors = np.asarray(self.embed([text for _, text in sentences]))
        similarities = vectors @ theme_vector
        best: dict[int, tuple[float, str]] = {}
        for (paragraph, text), similarity in zip(sentences, similarities, strict=True):
            if (
                similarity >= CHECK_MIN_SIMILARITY
                and similarity > best.get(paragraph.position, (0.0, ""))[0]
            ):
                best[paragraph.position] = (float(similarity), text)
        return [self._place(corpus.paragraphs[p], quote, "sweep") for p, (_, quote) in best.items()]

    @staticmethod
    def _place(paragraph: Paragraph, quote: str, found_by: str) -> Place:
        chunk = paragraph.chunk
        kind = place_kind(paragraph.text, quote, chunk.kind, chunk.section, paragraph.lead_in)
        return Place(paragraph, kind, quote, found_by)


def _quote_of(paragraph: Paragraph, hits: list[Token]) -> str:
    """The sentence(s) of the paragraph that hold the theme's terms."""
    spans = sentence_spans(paragraph.text)
    chosen = [(s, e) for s, e in spans if any(s <= t.start < e for t in hits)]
    if not chosen:
        return paragraph.text.strip()
    return " … ".join(paragraph.text[s:e] for s, e in chosen)


def _cooccurring_terms(corpus: CorpusParagraphs, matched: set[int]) -> dict[str, float]:
    """Words and word pairs the matched paragraphs use more than the papers at large."""
    inside: Counter[str] = Counter()
    for position in matched:
        words = [t.word for t in corpus.paragraphs[position].tokens]
        grams = {w for w in words if w not in THEME_FRAME_WORDS and len(w) > 2}
        grams |= {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)
                  if a not in THEME_FRAME_WORDS and b not in THEME_FRAME_WORDS}  # fmt: skip
        inside.update(grams)
    lift: dict[str, float] = {}
    for gram, count in inside.items():
        if count >= 2:
            stems = content_stems(gram)
            overall = min((len(corpus.postings.get(s, ())) for s in stems), default=0)
            lift[gram] = count * count / max(1, overall)
    return lift


def _unique(terms: list[Term]) -> list[Term]:
    seen: set[tuple[str, ...]] = set()
    unique = []
    for term in terms:
        if term.stems and term.stems not in seen:
            seen.add(term.stems)
            unique.append(term)
    return unique

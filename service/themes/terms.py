"""A theme's search terms: the phrases the reader gave, the words that carry them alone, the
acronyms the corpus defines for them, and the corpus terms nearest to them in embedding space.

Nothing here lists a corpus's own words: acronyms are learned from definitions in the text
("Oxfordshire Safeguarding Adults Board (OSAB)"), and near-synonyms from the embedding model,
restricted to terms that occur in the papers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ingest.text.acronyms import Glossary
from ingest.text.tokens import stem, word_tokens
from ingest.text.words import FUNCTION_WORDS, THEME_FRAME_WORDS
from service.themes.kinds import kind_words

# A single word may stand for its phrase when it is close to it in meaning
# ("exploitation" for "child exploitation", not "child").
ANCHOR_MIN_SIMILARITY = 0.6
# ... and rare enough in the papers not to drown the theme ...
ANCHOR_MAX_SHARE = 0.05
# ... and the passages it finds alone are about the theme (see `coherent`): clearly nearer
# to it than the papers at large, and this share of the way to the phrase's own passages.
COHERENCE_MARGIN = 0.05
STAND_IN_SHARE = 0.7
# A term's stem of this many letters or more also matches longer stems that start with it
# ("sleep" finds "sleepers", "exploit" "exploiters").
PREFIX_MIN = 5
# A corpus term nearer than this to one of the theme's phrases is taken as a synonym.
NEIGHBOUR_MIN_SIMILARITY = 0.8
NEIGHBOUR_CANDIDATES = 60

_SEPARATORS = re.compile(
    r"([,;:()\[\]/?!.\"“”]|\b(?:and|or|such as|including|includes|e\.g|like|especially|"
    r"as well as|versus|vs|plus)\b)",
    re.I,
)
_CONJUNCTION = re.compile(r"^(and|or)$", re.I)
# "the exploitation of children or young people": the second object shares the head.
_HEAD_OF = re.compile(r"^(?P<head>.*\bof)\s+\S+(\s+\S+)?$")
_ACRONYM_DEFINITION = re.compile(r"\(([A-Z][A-Za-z&]*[A-Z][A-Za-z]?s?)\)")
_ACRONYM_FIRST = re.compile(r"\b([A-Z][A-Za-z&]*[A-Z]s?)\s*\(([^()]{6,80})\)")

Embed = Callable[[list[str]], list[list[float]]]


@dataclass(frozen=True)
class Term:
    text: str  # as shown to the reader
    stems: tuple[str, ...]
    # "theme", "run" (of the reader's phrase), "word", "acronym", "long form", "neighbour"
    source: str
    # The phrase's stems with the small words inside it, when it has any: "children in care"
    # occurs only as written, since "in" fixes how its words relate ("children's social care"
    # is not it). Empty: the words may stand in any order within `window`.
    linked: tuple[str, ...] = ()

    @property
    def window(self) -> int:
        """Tokens the term's words may spread over: "sleeping rough" for "rough sleeping"."""
        return len(self.stems) + 2


def phrase_term(phrase: str, source: str = "theme") -> Term:
    """A term for the reader's phrase, linked when small words stand inside it."""
    stems = content_stems(phrase)
    words = phrase.split()
    linked = tuple(stem(word) for word in words)
    inner = any(word in FUNCTION_WORDS for word in words[1:-1])
    return Term(phrase, stems, source, linked if inner and len(stems) > 1 else ())


def stem_matches(term_stem: str, text_stem: str) -> bool:
    if text_stem == term_stem:
        return True
    return len(term_stem) >= PREFIX_MIN and text_stem.startswith(term_stem)


def content_stems(text: str) -> tuple[str, ...]:
    """The stems of the text's words, the frame of a theme request left out."""
    return tuple(t.stem for t in word_tokens(text) if t.word not in THEME_FRAME_WORDS)


def theme_phrases(text: str, holds: Callable[[str], bool] | None = None) -> list[str]:
    """The phrases of a theme or question, its frame ("which priorities mention") left out;
    small words inside a phrase kept ("children in care"). A name in capitals joined by "and"
    ("Energy and Low Emissions Strategy") stays whole when the papers `holds` it."""
    for start, end in sorted(kind_words(text), reverse=True):
        text = text[:start] + "," + text[end:]
    pieces = _SEPARATORS.split(text)
    parts = [
        (pieces[i - 1].strip() if i else "", pieces[i].strip()) for i in range(0, len(pieces), 2)
    ]
    parts = _names_kept_whole(parts, holds)
    phrases: list[str] = []
    previous = ""
    for separator, part in parts:
        head = _HEAD_OF.match(" ".join(w.lower() for w in previous.split()))
        if part and head and _CONJUNCTION.match(separator):
            part = f"{head.group('head')} {part}"
        phrase = " ".join(_phrase_words(part))
        if phrase and phrase not in phrases:
            phrases.append(phrase)
        previous = part
    return phrases


def held_term(phrase: str, holds: Callable[[Term], bool]) -> Term:
    """The phrase's term; when the papers do not hold it as written, the longest run of two or
    more of its words they do hold ("employer national insurance contributions" of "rise in
    employer national insurance contributions"), the later of two (a noun phrase's head comes
    last); failing that, its words in any order ("exploitation of children" finds "children
    at risk of exploitation")."""
    term = phrase_term(phrase)
    if not term.linked or holds(term):
        return term
    words = phrase.split()
    for length in range(len(words) - 1, 1, -1):
        for start in range(len(words) - length, -1, -1):
            run = words[start : start + length]
            if run[0] in THEME_FRAME_WORDS or run[-1] in THEME_FRAME_WORDS:
                continue
            shorter = phrase_term(" ".join(run), "run")
            if len(shorter.stems) > 1 and holds(shorter):
                return shorter
    return Term(phrase, term.stems, term.source)


def wider_runs(term: Term, places: Callable[[Term], int]) -> list[Term]:
    """Runs of two or more of a long phrase's words, as written, that the papers hold in more
    places than the phrase and than every longer run holding them: the reader's "employer
    national insurance contributions increase" is written "increase in employer national
    insurance contributions" or "the National Insurance grant". For a phrase the papers never
    write, its longest runs they hold, and the runs inside those. The caller keeps those whose
    places are about the phrase (`ThemeScanner._coherent_runs`)."""
    words = term.text.split()
    if term.linked or len(term.stems) < 3 or len(words) != len(term.stems):
        return []
    found = {term: places(term)}
    spans = [(start, end) for start in range(len(words)) for end in range(start + 2, len(words) + 1)
             if end - start < len(words)
             and not _linking(words[start]) and not _linking(words[end - 1])]  # fmt: skip
    spans.sort(key=lambda span: -_content_words(words[span[0] : span[1]]))
    longest = 0  # content words of the longest run held
    for start, end in spans:
        run_words = words[start:end]
        # as written: a run's words in any order read as another phrase ("criminalisation
        # of children" for "child criminal")
        stems = tuple(stem(word) for word in run_words)
        runs = list(found)[1:]
        shorter = _content_words(run_words) < longest
        if not found[term] and shorter and not any(_contains(r.stems, stems) for r in runs):
            continue  # never written, the phrase stands for its longest runs and their parts
        run = Term(" ".join(run_words), stems, "run", stems)
        count = places(run)
        if count and all(count > n for held, n in found.items() if _contains(held.stems, stems)):
            longest = longest or _content_words(run_words)
            found[run] = count
    return list(found)[1:]


def _content_words(words: list[str]) -> int:
    return sum(not _linking(word) for word in words)


def written_as_name(phrase: str, text: str) -> bool:
    """Whether the phrase stands in `text` as a name, each word capitalised ("Securing Kent's
    Future"): a run of a name ("Kent's Future") names something else ("Framing Kent's Future")."""
    pattern = r"\W+".join(re.escape(word) for word in phrase.split())
    written = re.search(rf"\b{pattern}\b", text, re.I)
    return written is not None and _capitalised(written.group(0))


def _phrase_words(part: str) -> list[str]:
    """The part's words less the frame, and less small words at its ends."""
    words = [t.word for t in word_tokens(part)
             if t.word not in THEME_FRAME_WORDS or t.word in FUNCTION_WORDS]  # fmt: skip
    while words and words[0] in THEME_FRAME_WORDS:
        words.pop(0)
    while words and words[-1] in THEME_FRAME_WORDS:
        words.pop()
    return words


def _names_kept_whole(
    parts: list[tuple[str, str]], holds: Callable[[str], bool] | None
) -> list[tuple[str, str]]:
    """(separator, part) pairs with "Capital and Capital Name" joined again where the papers
    hold the whole name."""
    if holds is None:
        return parts
    joined: list[tuple[str, str]] = []
    for separator, part in parts:
        if (
            joined
            and separator.lower() == "and"
            and _capitalised(joined[-1][1])
            and _capitalised(part)
        ):
            whole = f"{joined[-1][1]} and {part}"
            if holds(" ".join(_phrase_words(whole))):
                joined[-1] = (joined[-1][0], whole)
                continue
        joined.append((separator, part))
    return joined


def _capitalised(part: str) -> bool:
    """Every word of the part that is not a small word begins with a capital."""
    words = [w for w in re.findall(r"[A-Za-z][\w'’]*", part) if w.lower() not in FUNCTION_WORDS]
    return bool(words) and all(w[0].isupper() for w in words)


def learn_acronyms(texts: Iterable[str]) -> Glossary:
    """The acronyms the papers define, each with its long form as the scan reads it."""
    return Glossary.learn(texts, definitions=acronym_definitions)


def acronym_terms(glossary: Glossary, terms: Sequence[Term]) -> list[Term]:
    """The other form of each acronym the terms use: the long form of an acronym, and the
    acronym of a long form a term holds."""
    found: list[Term] = []
    for acronym, long_form in glossary.pairs.items():
        long_stems = content_stems(long_form)
        acronym_stem = stem(acronym)
        for term in terms:
            if term.stems == (acronym_stem,):
                found.append(Term(long_form, long_stems, "long form"))
            elif _contains(long_stems, term.stems):
                found.append(Term(acronym, (acronym_stem,), "acronym"))
    return found


def acronym_definitions(text: str) -> Iterable[tuple[str, str]]:
    """(acronym, long form) pairs the text defines, "Long Form (LF)" or "LF (long form)"; the
    long form lower-cased, word by word as `word_tokens` reads it."""
    for match in _ACRONYM_DEFINITION.finditer(text):
        acronym = match.group(1)
        before = [t.word for t in word_tokens(text[max(0, match.start() - 160) : match.start()])]
        long_form = _long_form(acronym, before)
        if long_form:
            yield acronym, long_form
    for match in _ACRONYM_FIRST.finditer(text):
        words = [t.word for t in word_tokens(match.group(2))]
        if _initials_fit(match.group(1), words):
            yield match.group(1), " ".join(words)


def _long_form(acronym: str, before: list[str]) -> str | None:
    """The words before "(ACRONYM)" whose initials spell it, small words allowed between."""
    letters = [c.lower() for c in acronym.rstrip("s") if c.isupper() or c == "&"]
    picked: list[str] = []
    position = len(before) - 1
    for letter in reversed(letters):
        while position >= 0 and _linking(before[position]) and picked:
            picked.append(before[position])
            position -= 1
        if position < 0 or not before[position].startswith(letter):
            return None
        picked.append(before[position])
        position -= 1
    return " ".join(reversed(picked)) if len(picked) >= 2 else None


def _linking(word: str) -> bool:
    """A small word, or the "s" of a possessive ("Securing Kent's Future (SKF)"), which an
    acronym's letters skip."""
    return word in THEME_FRAME_WORDS or word == "s"


def _initials_fit(acronym: str, words: list[str]) -> bool:
    initials = "".join(w[0] for w in words if not _linking(w))
    return initials == "".join(c.lower() for c in acronym.rstrip("s") if c.isupper())


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    """Whether `needle`'s stems occur in `haystack` as one contiguous run."""
    n = len(needle)
    return n > 0 and any(
        all(stem_matches(a, b) for a, b in zip(needle, haystack[i : i + n], strict=True))
        for i in range(len(haystack) - n + 1)
    )


def anchor_words(
    phrases: Sequence[str], embed: Embed, share: Callable[[str], float]
) -> list[tuple[Term, Term]]:
    """Candidate single words that may stand for a phrase of two or more words, each with
    its phrase: close to the phrase in meaning and rare enough in the papers. The caller
    keeps those whose passages are about the theme (`coherent`)."""
    found: list[tuple[Term, Term]] = []
    for phrase in phrases:
        words = [w for w in phrase.split() if w not in THEME_FRAME_WORDS]
        if len(words) < 2:
            continue
        whole = phrase_term(phrase)
        vectors = np.array(embed([phrase, *words]))
        similarities = vectors[1:] @ vectors[0]
        # The most specific (rarest) of the words that keep the phrase's meaning: "hate" for
        # "hate crime", "exploitation" for "child exploitation".
        close = [(share(stem(w)), w) for w, s in zip(words, similarities, strict=True)
                 if s >= ANCHOR_MIN_SIMILARITY]  # fmt: skip
        if close and min(close)[0] <= ANCHOR_MAX_SHARE:
            word = min(close)[1]
            found.append((Term(word, (stem(word),), "word"), whole))
    return found


def coherent(
    alone: list[float], with_phrase: list[float], baseline: float, share: float = STAND_IN_SHARE
) -> bool:
    """Whether the passages a word finds without its phrase are about the theme: on average
    (dense similarity to the theme) clearly nearer than the papers at large, and, measured
    from there, most of the way to the phrase's own passages ("transport" alone finds
    minerals haulage, not "school transport")."""
    if not alone:
        return True  # the word adds nothing the phrase does not find
    mean = float(np.mean(alone))
    if with_phrase and mean - baseline < share * (float(np.mean(with_phrase)) - baseline):
        return False
    return mean >= baseline + COHERENCE_MARGIN


def nearest_corpus_terms(
    phrases: Sequence[str],
    candidates: dict[str, float],
    known: set[tuple[str, ...]],
    embed: Embed,
) -> list[Term]:
    """Corpus terms (from the paragraphs the theme's terms found) close in meaning to a phrase."""
    fresh = [
        text for text in sorted(candidates, key=lambda gram: -candidates[gram])
        if content_stems(text) and content_stems(text) not in known
    ][:NEIGHBOUR_CANDIDATES]  # fmt: skip
    if not fresh or not phrases:
        return []
    phrase_vectors = np.array(embed(list(phrases)))
    term_vectors = np.array(embed(fresh))
    best = (term_vectors @ phrase_vectors.T).max(axis=1)
    return [
        Term(text, content_stems(text), "neighbour")
        for text, similarity in zip(fresh, best, strict=True)
        if similarity >= NEIGHBOUR_MIN_SIMILARITY
    ]

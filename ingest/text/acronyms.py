"""Acronyms learned from the papers themselves.

Board papers define their abbreviations in passing — "Oxfordshire Safeguarding Adults Board
(OSAB)", "the Office of the Police and Crime Commissioner (OPCC)" — and then use either form.
We collect every definition whose long form's initials spell the acronym, so a query can be
expanded both ways. Nothing here knows any particular corpus's terms.

`Glossary.learn` counts the definitions a reading finds and keeps each acronym's most frequent
long form; `definitions_in` is the reading used for questions, and the theme scan passes its
own (service/themes/terms.py), which reads long forms word by word as the scan matches them.
The index counts each paper's definitions once (`count_definitions`, kept per paper by
`save_document_definitions`) and merges the live papers' counts (`Glossary.merged`), which
gives the glossary `learn` would over all their texts.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from ingest.whole_files import write_whole

from .words import ACRONYM_LINKING_WORDS

# "(OSAB)", "(OPCC)", "(CSPs)": 2-10 capitals, optional lower-case plural s / inner lowercase.
_DEFINITION = re.compile(r"\(\s*(?P<acronym>[A-Z][A-Za-z&]{1,9}?)s?\s*\)")
_WORD = re.compile(r"[A-Za-z][\w'’&-]*")
MAX_LONG_FORM_WORDS = 10


def definitions_in(text: str) -> list[tuple[str, str]]:
    """(acronym, long form) pairs defined in `text`."""
    found: list[tuple[str, str]] = []
    for match in _DEFINITION.finditer(text):
        acronym = match.group("acronym")
        letters = [ch.lower() for ch in acronym if ch.isupper() or ch == "&"]
        if len(letters) < 2 or sum(ch.isupper() for ch in acronym) < 2:
            continue
        before = text[max(0, match.start() - 160) : match.start()]
        words = _WORD.findall(before)[-MAX_LONG_FORM_WORDS:]
        long_form = _long_form(words, [ch for ch in letters if ch != "&"])
        if long_form:
            found.append((acronym, long_form.rstrip("'’")))
    return found


def _long_form(words: list[str], letters: list[str]) -> str | None:
    """The shortest run of trailing words whose initials spell `letters` (linking words may be
    skipped; a hyphenated word may give one letter per part)."""
    for start in range(len(words) - 1, -1, -1):
        run = words[start:]
        if not run[0][:1].isupper():
            continue
        if _spells(run, letters):
            return " ".join(run)
    return None


def _spells(words: list[str], letters: list[str]) -> bool:
    initials: list[list[str]] = []
    for word in words:
        parts = [p for p in re.split(r"[-&]", word) if p]
        options = [p[0].lower() for p in parts]
        initials.append(options)
    return _match(initials, words, letters)


def _match(initials: list[list[str]], words: list[str], letters: list[str]) -> bool:
    if not initials:
        return not letters
    word, rest_words = words[0], words[1:]
    options, rest = initials[0], initials[1:]
    if letters and options[0] == letters[0]:
        # one letter from the word, or one per hyphenated part
        if _match(rest, rest_words, letters[1:]):
            return True
        if (
            len(options) > 1
            and options == letters[: len(options)]
            and _match(rest, rest_words, letters[len(options) :])
        ):
            return True
    return word.lower() in ACRONYM_LINKING_WORDS and _match(rest, rest_words, letters)


Definitions = dict[str, dict[str, int]]
"""Acronym → long form → how often it is defined so, each in the order first seen."""


def count_definitions(
    texts: Iterable[str],
    definitions: Callable[[str], Iterable[tuple[str, str]]] = definitions_in,
) -> Definitions:
    """How often the texts define each acronym with each long form."""
    counts: Definitions = {}
    for text in texts:
        for acronym, long_form in definitions(text):
            forms = counts.setdefault(acronym, {})
            forms[long_form] = forms.get(long_form, 0) + 1
    return counts


class Glossary:
    """Acronym ↔ long form, as the live papers define them (most frequent form wins)."""

    def __init__(self, pairs: dict[str, str]) -> None:
        self.pairs = pairs
        self._long_lowered = {acronym: long_form.lower() for acronym, long_form in pairs.items()}
        # compiled once per glossary: a query is matched against every pair, both ways
        self._patterns = {
            acronym: (
                re.compile(rf"\b{re.escape(acronym)}s?\b"),
                # whole words only, either case: "Care Act" is not in "care actions"
                re.compile(rf"\b{re.escape(long_form.lower())}s?\b"),
            )
            for acronym, long_form in pairs.items()
        }

    @classmethod
    def learn(
        cls,
        texts: Iterable[str],
        definitions: Callable[[str], Iterable[tuple[str, str]]] = definitions_in,
    ) -> Glossary:
        """The pairs `definitions` finds in the texts, each acronym with its most frequent long
        form (the first seen of those as frequent)."""
        return cls.merged([count_definitions(texts, definitions)])

    @classmethod
    def merged(cls, counted: Iterable[Definitions]) -> Glossary:
        """The glossary of texts whose definitions were counted apart (a paper at a time), as
        `learn` would give it over all their texts in the same order."""
        counts: dict[str, Counter[str]] = {}
        for definitions in counted:
            for acronym, forms in definitions.items():
                counts.setdefault(acronym, Counter()).update(forms)
        return cls({acronym: forms.most_common(1)[0][0] for acronym, forms in counts.items()})

    def expansions(self, query: str) -> list[str]:
        """The other form of every acronym or long form the query uses."""
        used = self._forms_used(query)
        extra = [self.pairs[acronym] for acronym, (short, _) in used.items() if short]
        extra += [acronym for acronym, (_, long) in used.items() if long and acronym not in extra]
        return extra

    def pairs_used(self, query: str) -> list[tuple[str, str]]:
        """(acronym, long form) of every pair the query uses in either form."""
        return [(acronym, self.pairs[acronym]) for acronym in self._forms_used(query)]

    def _forms_used(self, query: str) -> dict[str, tuple[bool, bool]]:
        """Per pair the query uses: whether it uses the acronym, and the long form."""
        lowered = query.lower()
        used: dict[str, tuple[bool, bool]] = {}
        # Each form's regex runs only where its text occurs at all: an archive's glossary has
        # hundreds of pairs, and a question names few of them.
        for acronym, (short, long) in self._patterns.items():
            forms = (
                acronym in query and short.search(query) is not None,
                self._long_lowered[acronym] in lowered and long.search(lowered) is not None,
            )
            if any(forms):
                used[acronym] = forms
        return used

    def save(self, path: Path) -> None:
        """Written to a temporary file of its own, then renamed over `path` in one step:
        concurrent writers never share a temporary name, and a reader sees one whole file."""
        write_whole(path, json.dumps(self.pairs, indent=1, sort_keys=True))

    @classmethod
    def load(cls, path: Path) -> Glossary | None:
        try:
            return cls(dict(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            return None


DocumentDefinitions = dict[str, tuple[str, Definitions]]
"""Per document id: the version whose texts were read, and the definitions counted in them."""


def save_document_definitions(path: Path, documents: DocumentDefinitions) -> None:
    """Keep what each paper defines, so the glossary of what is live later reads only the
    papers new since (written whole, as `Glossary.save` is)."""
    entries = {doc_id: [version, counts] for doc_id, (version, counts) in documents.items()}
    write_whole(path, json.dumps(entries))


def load_document_definitions(path: Path) -> DocumentDefinitions:
    """What `save_document_definitions` kept; nothing when there is no whole file."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        return {
            str(doc_id): (str(version), dict(counts))
            for doc_id, (version, counts) in entries.items()
        }
    except (OSError, ValueError, TypeError, AttributeError):
        return {}

"""Follow-up questions → standalone questions, so retrieval searches what the user meant.

"And what about West Oxfordshire?" means nothing to a search index; after "How much funding
was allocated to Cherwell District Council?" it means "How much funding was allocated to West
Oxfordshire?". Two rewriters share one interface:

- `RuleRewriter` (no LLM) reads a follow-up against the previous standalone question. A leading
  "and"/"but"/"so" goes. Then, by shape:
  - ellipsis ("what about …", "and …", a bare short phrase): the new focus replaces the part of
    the previous question it contrasts — a year for a year, a name for a name of the same kind
    or scope, a plain phrase for a plain phrase — or, with nothing to contrast, becomes what is
    asked, of the previous question's topic ("and the vice chair?" → "Who is the vice chair of
    the Health and Wellbeing Board?");
  - a question whose only news is a year or name ("what was it in 2015?"): the same swap;
  - a pronoun: replaced by the previous question's topic, keeping its period;
  - a bare question word ("Why?", "How many?"): the previous question asked with that word;
  - a question that names no topic of its own (no name, no possessive, no prepositional phrase,
    a few content words: "who is vice chair?"): the previous topic attached with "of"/"for";
  - anything else carries its own subject and stands alone.
  The topic of a question is its first name ("the Health and Wellbeing Board"), else what a
  "What is …?" asks about, else its first "the …" phrase.
- `LLMRewriter`: the chat model with `prompts/followup.*.md`; falls back to the rules if the
  model fails or answers with something that is not one question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from ingest.text.words import ANSWER_KIND_WORDS, FUNCTION_WORDS, INTERROGATIVES, QUESTION_OPENERS
from service.conversations import Turn
from service.llm.prompts import load_chat_prompt

_PREPOSITION_NAMES = "in|for|at|on|of|from|to|by|under|with|during|about|into|across"
_CONTINUATION = re.compile(r"^(?:(?:and|but|also|so|ok|okay|then|well)\b[\s,]*)+", re.I)
# Ellipsis openers: what follows is a focus, not a question of its own.
_ELLIPSIS = re.compile(
    r"^(?:(?:what|how)\s+about|what\s+of"
    r"|(?:(?:is|was|are|were)\s+(?:it|that|this|they)\s+)?(?:the\s+)?same)(?:\s+(?P<focus>.+))?$",
    re.IGNORECASE,
)
_FOCUS = re.compile(rf"^(?:(?P<prep>{_PREPOSITION_NAMES})\s+)?(?P<focus>.+)$", re.IGNORECASE)
_PRONOUN = re.compile(
    r"\b(it|its|they|them|their|theirs|he|she|him|his|her|this|these|those)\b", re.I
)
_POSSESSIVE = frozenset({"its", "their", "his", "her"})
_YEAR = r"(?:19|20)\d{2}(?:\s*[-/–]\s*(?:19|20)?\d{2})?"
_NUMBER = r"[£$€]?\d+(?:[.,]\d+)*%?"
_DATE = rf"[A-Z][a-z]+\s+{_YEAR}"  # "March 2023"
# A period a question is set in: "in 2022/23", "for the financial year 2023/24", "in March 2023".
_PERIOD = re.compile(
    r"\b(?:in|for|during|since|by|over|from)\s+(?:the\s+)?"
    rf"(?:(?:financial|municipal|calendar|academic)\s+year\s+)?(?:[A-Z][a-z]+\s+)?{_YEAR}\b"
)
_CONNECTORS = frozenset({"of", "and", "&", "for", "the", "upon", "on"})
_PREPOSITIONS = frozenset(_PREPOSITION_NAMES.split("|"))
_ARTICLES = frozenset({"the", "a", "an"})
_AUXILIARIES = QUESTION_OPENERS - INTERROGATIVES - {"much", "many"}
_PAST = frozenset({"was", "were", "did", "had"})
# Words that carry no topic: a question made only of these (and a role or kind) asks about
# the previous question's topic.
_NOT_CONTENT = FUNCTION_WORDS | QUESTION_OPENERS | ANSWER_KIND_WORDS
_ASK = r"how\s+(?:many|much|long|often|far|soon)|what|which|who|whom|whose|when|where|why|how"
# How a question opens: its question word(s), then the rest.
_LEAD = re.compile(rf"^(?P<ask>{_ASK})\s+(?P<rest>.+)$", re.IGNORECASE)
_BARE_ASK = re.compile(rf"(?:{_ASK})", re.IGNORECASE)
# Question words that ask about the circumstances of what the previous question asked, so can
# stand in for its question word ("When did …?" → "Why did …?"); "who"/"what" ask for a part.
_CIRCUMSTANCE_ASKS = frozenset(
    {"why", "when", "where", "how", "how long", "how often", "how far", "how soon"}
)
_COPULA_TOPIC = re.compile(
    r"^(?:what|who|which)\s+(?P<verb>is|are|was|were)\s+(?P<topic>.+)$", re.IGNORECASE
)
_PLURAL_PRONOUNS = frozenset({"they", "them", "their", "theirs", "these", "those"})
_WORD = re.compile(r"[\w&'’/.£%-]+")
SHORT_FOLLOWUP_WORDS = 3  # a message this short with history is read as elliptical


class FollowUpRewriter(Protocol):
    def rewrite(self, question: str, history: list[Turn]) -> str: ...


@dataclass
class _Span:
    start: int
    end: int
    text: str
    kind: str  # "year", "number", "date", "name"


def _spans(question: str) -> list[_Span]:
    """Years, figures, dates and capitalised names in a question, in order."""
    spans = [
        _Span(m.start(), m.end(), m.group(0), "year")
        for m in re.finditer(rf"\b{_YEAR}\b", question)
    ]
    taken = [(s.start, s.end) for s in spans]
    for m in re.finditer(rf"(?<![\w/]){_NUMBER}(?![\w/])", question):
        if not any(a <= m.start() < b for a, b in taken):
            spans.append(_Span(m.start(), m.end(), m.group(0), "number"))
    words = list(_WORD.finditer(question))
    i = 0
    while i < len(words):
        word = words[i].group(0)
        if word[:1].isupper() and word.lower() not in QUESTION_OPENERS:
            date = re.match(_DATE, question[words[i].start() :])
            if date:  # "March 2023" is a period, not a name
                end = words[i].start() + date.end()
                spans.append(_Span(words[i].start(), end, date.group(0), "date"))
                while i < len(words) and words[i].start() < end:
                    i += 1
                continue
            j = i
            # Extend over capitalised words and small words inside names ("Vale of White Horse").
            while j + 1 < len(words) and (
                words[j + 1].group(0)[:1].isupper()
                or (
                    words[j + 1].group(0).lower() in _CONNECTORS
                    and j + 2 < len(words)
                    and words[j + 2].group(0)[:1].isupper()
                )  # fmt: skip
            ):
                j += 1
            while (
                j + 1 < len(words)
                and re.fullmatch(r"\d+[A-Za-z]?", words[j + 1].group(0))
                and not re.fullmatch(_YEAR, words[j + 1].group(0))
            ):
                j += 1  # a numbered name: "Section 136", "Table 2"
            start, end = words[i].start(), words[j].end()
            text = question[start:end].rstrip(".,;:?")
            spans.append(_Span(start, start + len(text), text, "name"))
            i = j + 1
        else:
            i += 1
    return sorted(spans, key=lambda s: s.start)


def _kind(focus: str) -> str:
    if re.fullmatch(_YEAR, focus):
        return "year"
    if re.fullmatch(_NUMBER, focus):
        return "number"
    if re.fullmatch(_DATE, focus):
        return "date"
    return "name" if _without_article(focus)[:1].isupper() else "phrase"


def _without_article(text: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", text, flags=re.IGNORECASE)


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z0-9£%/]+", text) if w.lower() not in QUESTION_OPENERS]


def _topic_words(text: str) -> list[str]:
    """Words that could say what a question is about (not its frame, a pronoun or a year)."""
    words = re.findall(r"[A-Za-z][\w'’-]*", text)
    return [w for w in words if w.lower() not in _NOT_CONTENT and not _PRONOUN.fullmatch(w)]


def _replace_focus(previous: str, focus: str, prep: str | None) -> str:
    kind = _kind(focus)
    spans = [s for s in _spans(previous) if s.kind == kind]
    if kind == "name":
        target = _contrasted_name(previous, _without_article(focus), prep, spans)
        if target is not None:
            # The new name comes with its own article or none: "the Board" → "Cherwell".
            article = re.search(r"\bthe\s+$", previous[: target.start], re.IGNORECASE)
            start = article.start() if article else target.start
            return _sentence_case(previous[:start] + focus + previous[target.end :])
    if kind in ("year", "number", "date") and spans:
        target = spans[-1] if kind != "number" else spans[0]
        return previous[: target.start] + focus + previous[target.end :]
    if kind == "date":  # a month and year for the year
        years = [s for s in _spans(previous) if s.kind == "year"]
        if years:
            return previous[: years[-1].start] + focus + previous[years[-1].end :]
    if kind == "phrase":
        # A phrase with an article ("the deficit") contrasts the question's own "the …" phrase,
        # a plain one ("exploitation") the plain object of a preposition; a preposition in the
        # follow-up ("and for carers?") says which object.
        articled = focus.split()[0].lower() in _ARTICLES
        finders = [_plain_object, _article_phrase]
        if articled and prep is None:
            finders.reverse()
        for finder in finders if prep is None else [_plain_object]:
            found = finder(previous, prep)
            if found is not None:
                start, end = found
                if not articled and previous[start:end].split()[0].lower() in _ARTICLES:
                    start += len(previous[start:end].split()[0]) + 1  # keep "the"
                return previous[:start] + focus + previous[end:]
        if prep is None:
            asked = _asked_of_topic(previous, focus)
            if asked is not None:
                return asked
    stem = previous.rstrip(" ?.!")
    return f"{stem} {prep or 'for'} {focus}?"


def _contrasted_name(
    previous: str, focus: str, prep: str | None, spans: list[_Span]
) -> _Span | None:
    """The name a new name contrasts, or None when it adds a scope instead."""
    if not spans:
        return None
    focus_words = {w.lower() for w in focus.split()}

    def words(span: _Span) -> set[str]:
        return {w.lower() for w in span.text.split()}

    # A name that refines or generalises the old one ("Oxfordshire" → "West Oxfordshire"),
    # else one of the same kind ("… District Council" for "… District Council"), else the
    # first name after a preposition (the scope of the question: "in/for/to Cherwell").
    refined = [s for s in spans if words(s) <= focus_words or focus_words <= words(s)]
    head = focus.split()[-1].lower()
    same_kind = [s for s in spans if s.text.split()[-1].lower() == head]
    scoped = [s for s in spans if _word_before(previous, s.start) in _PREPOSITIONS]
    same_scope = [s for s in scoped if _word_before(previous, s.start) == prep]
    candidates = refined or same_kind or same_scope or scoped
    if candidates:
        return candidates[0]
    # With a preposition of its own ("and for Kent?") the name is a scope to add, not the
    # question's subject to replace.
    return None if prep else spans[0]


def _plain_object(previous: str, prep: str | None) -> tuple[int, int] | None:
    """The last preposition's object that is a plain phrase (not a name, year or figure)."""
    words = list(_WORD.finditer(previous.rstrip(" ?.!")))
    for i in range(len(words) - 2, -1, -1):
        word = words[i].group(0).lower()
        if word not in _PREPOSITIONS or (prep is not None and word != prep):
            continue
        j = i + 1
        while j < len(words) and words[j].group(0).lower() not in _PREPOSITIONS:
            j += 1
        obj = [w.group(0) for w in words[i + 1 : j]]
        if obj and all(w[:1].islower() for w in obj):
            return words[i + 1].start(), words[j - 1].end()
    return None


def _article_phrase(previous: str, prep: str | None = None) -> tuple[int, int] | None:
    """The first "the …" phrase of plain words ("the budget", "the council's policy")."""
    words = list(_WORD.finditer(previous.rstrip(" ?.!")))
    for i, word in enumerate(words):
        if word.group(0).lower() not in _ARTICLES:
            continue
        j = i + 1
        while (
            j < len(words)
            and words[j].group(0)[:1].islower()
            and words[j].group(0).lower() not in _PREPOSITIONS | FUNCTION_WORDS
        ):
            j += 1
        if j > i + 1:
            return word.start(), words[j - 1].end()
    return None


def _asked_of_topic(previous: str, focus: str) -> str | None:
    """With nothing to contrast, the focus is what is asked, of the previous topic:
    "and the vice chair?" after "Who chairs the Board?" → "Who is the vice chair of the Board?"."""
    lead = _LEAD.match(previous.rstrip(" ?.!"))
    topic = _topic(previous)
    if lead is None or topic is None:
        return None
    ask = lead.group("ask").lower()
    if ask != "who" or topic.lower() in focus.lower():
        ask = "what"  # "who" is kept for a role; anything else is asked with "what"
    words = lead.group("rest").split()
    past = bool(_PAST & {w.lower() for w in previous.split()}) or words[0].endswith("ed")
    last = focus.split()[-1].lower()
    plural = last.endswith("s") and not last.endswith(("ss", "us", "is", "'s", "’s"))
    verb = ("were" if plural else "was") if past else ("are" if plural else "is")
    of_topic = "" if topic.lower() in focus.lower() else f" of {topic}"
    return f"{_sentence_case(ask)} {verb} {focus}{of_topic}{_period(previous)}?"


def _word_before(text: str, index: int) -> str:
    before = re.findall(r"[\w']+", text[:index])
    return before[-1].lower() if before else ""


def _topic(previous: str) -> str | None:
    """What a question is about: its first name, else what "What is …?" asks about, else its
    first "the …" phrase."""
    names = [s for s in _spans(previous) if s.kind == "name"]
    if names:
        name = names[0]
        text = re.sub(r"['’]s$", "", name.text)
        return f"the {text}" if _word_before(previous, name.start) == "the" else text
    copula = _COPULA_TOPIC.match(previous.rstrip(" ?.!"))
    if copula:
        return copula.group("topic")
    phrase = _article_phrase(previous)
    return previous[phrase[0] : phrase[1]] if phrase else None


def _period(previous: str) -> str:
    """The period the previous question is set in (" in 2022/23"), or ""."""
    periods = list(_PERIOD.finditer(previous))
    return f" {periods[-1].group(0)}" if periods else ""


class RuleRewriter:
    def rewrite(self, question: str, history: list[Turn]) -> str:
        question = question.strip()
        if not history:
            return question
        previous = history[-1].standalone_question
        bare = question.rstrip(" ?.!")
        if not previous.strip(" ?.!") or not bare:
            return question
        continuation = _CONTINUATION.match(bare)
        rest = bare[continuation.end() :] if continuation else bare
        if not rest:
            return question
        ellipsis = _ELLIPSIS.match(rest)
        if ellipsis:  # "what about?" alone asks the same again
            focus = ellipsis.group("focus")
            return _elliptical(previous, focus) if focus else previous
        if rest.split()[0].lower() in QUESTION_OPENERS:
            rewritten = _question(previous, rest)
            if rewritten is not None:
                return rewritten
            # A question of its own: as typed, less a leading "and".
            return (
                _sentence_case(rest) + (question[len(bare) :] or "?") if continuation else question
            )
        if continuation or len(_content_words(rest)) <= SHORT_FOLLOWUP_WORDS:
            return _elliptical(previous, rest)
        if _PRONOUN.search(rest):
            return _with_topic(previous, rest)
        return question


def _elliptical(previous: str, text: str) -> str:
    focus_match = _FOCUS.match(text.strip(" ,"))
    if focus_match is None:  # only separators
        return previous
    prep = focus_match.group("prep")
    focus = focus_match.group("focus").strip(" ,")
    if _PRONOUN.search(focus):  # "and its budget?": asked of the topic, contrasts nothing
        topic = _referent(previous, focus)
        asked = _asked_of_topic(previous, _replace_pronoun(focus, topic)) if topic else None
        return asked or _regarding(text, previous)
    return _replace_focus(previous, focus, prep.lower() if prep else None)


def _question(previous: str, text: str) -> str | None:
    """A follow-up that opens with a question word, read against the previous question; None
    when it carries its own subject."""
    topic_words = _topic_words(text)
    spans = [s for s in _spans(text) if s.kind != "number"]
    if not topic_words and spans:
        # Only a new year or name ("what was it in 2015?"): swap it into the previous question.
        rewritten = previous
        for span in spans:
            before = _word_before(text, span.start)
            rewritten = _replace_focus(
                rewritten, span.text, before if before in _PREPOSITIONS else None
            )
        return rewritten
    if _PRONOUN.search(text):
        return _with_topic(previous, text)
    if _BARE_ASK.fullmatch(" ".join(text.split())):
        return _asked_again(previous, text)
    if _names_no_topic(text, topic_words, spans):
        return _attach_topic(previous, text)
    return None


def _names_no_topic(text: str, topic_words: list[str], spans: list[_Span]) -> bool:
    """A question with no name, possessive or prepositional phrase and a few content words asks
    for a role or kind ("who is vice chair?"), not about a subject of its own."""
    if any(s.kind == "name" for s in spans) or len(topic_words) > SHORT_FOLLOWUP_WORDS:
        return False
    if any(re.search(r"['’]s$", w) for w in topic_words):
        return False
    words = re.findall(r"[\w'’-]+", text)
    return not any(
        w.lower() in _PREPOSITIONS and any(n in topic_words for n in words[i + 1 : i + 3])
        for i, w in enumerate(words)
    )


def _attach_topic(previous: str, text: str) -> str:
    topic = _topic(previous)
    if topic is None:
        return _regarding(text, previous)
    own = re.search(rf"\s+{_PERIOD.pattern}$", text)
    core = text[: own.start()] if own else text
    period = own.group(0) if own else ("" if _asks_when(text) else _period(previous))
    words = core.split()
    last = words[-1].lower()
    lead = _LEAD.match(core)
    ask = lead.group("ask").lower().split()[0] if lead else ""
    # A report verb takes "about"; an event ("how much was spent", "who was elected") "for";
    # a role or thing ("vice chair", "the main priorities") "of".
    if last in ANSWER_KIND_WORDS:
        link = "about"
    elif last.endswith("ed") or (
        ask in {"how", "when", "where", "why"}
        and len(words) > 1
        and words[-2].lower() in _AUXILIARIES
    ):
        link = "for"
    else:
        link = "of"
    return f"{_sentence_case(core)} {link} {topic}{period}?"


def _with_topic(previous: str, text: str) -> str:
    """A pronoun replaced by what it refers to, in the previous question's period."""
    topic = _referent(previous, text)
    if topic is None:
        return _regarding(text, previous)
    rewritten = _replace_pronoun(text, topic)
    period = _period(previous)
    if period and not re.search(_YEAR, text) and not _asks_when(text) and period not in rewritten:
        rewritten += period
    return _sentence_case(rewritten) + "?"


def _referent(previous: str, text: str) -> str | None:
    """What a follow-up's pronoun refers to: after "What is/are X?" a pronoun of X's number is X
    (the thing asked about: "when was it adopted?"); otherwise the previous question's topic."""
    pronoun = _PRONOUN.search(text)
    copula = _COPULA_TOPIC.match(previous.rstrip(" ?.!"))
    if pronoun and copula:
        plural_pronoun = pronoun.group(1).lower() in _PLURAL_PRONOUNS
        plural_copula = copula.group("verb").lower() in {"are", "were"}
        if plural_pronoun == plural_copula:
            return copula.group("topic")
    return _topic(previous)


def _replace_pronoun(text: str, topic: str) -> str:
    pronoun = _PRONOUN.search(text)
    if pronoun is None:
        return text
    replacement = f"{topic}'s" if pronoun.group(1).lower() in _POSSESSIVE else topic
    return text[: pronoun.start()] + replacement + text[pronoun.end() :]


def _asked_again(previous: str, asked: str) -> str:
    """A bare question word asks the previous question again with it: "Why?" after "When did
    the Board adopt the plan?" → "Why did the Board adopt the plan?"."""
    ask = " ".join(asked.lower().split())
    stem = previous.rstrip(" ?.!")
    words = stem.split()
    circumstance = ask in _CIRCUMSTANCE_ASKS
    if circumstance and words[0].lower() in _AUXILIARIES:  # a yes/no question: "Did the …?"
        return f"{_sentence_case(ask)} {words[0].lower()} {' '.join(words[1:])}?"
    lead = _LEAD.match(stem)
    if lead:
        old = " ".join(lead.group("ask").lower().split())
        rest = lead.group("rest").split()
        if circumstance and rest[0].lower() in _AUXILIARIES:  # "When did …" → "Why did …"
            return f"{_sentence_case(ask)} {' '.join(rest)}?"
        # "Which councils signed …" → "How many councils signed …"
        if old in {"what", "which", "how many", "how much"} and ask in {"how many", "how much"}:
            return f"{_sentence_case(ask)} {' '.join(rest)}?"
        if old in {"what", "which", "how many", "how much"} and circumstance:
            # "How much funding was allocated …" → "Why was funding allocated …"
            for k in range(1, min(4, len(rest))):
                if rest[k].lower() in _AUXILIARIES:
                    moved = [rest[k], *rest[:k], *rest[k + 1 :]]
                    return f"{_sentence_case(ask)} {' '.join(moved)}?"
    return _regarding(asked, previous)


def _asks_when(text: str) -> bool:
    return text.split()[0].lower() == "when"


def _regarding(text: str, previous: str) -> str:
    """The last resort: the follow-up, then the question it follows, for retrieval to read."""
    return f"{_sentence_case(text.rstrip(' ?.!'))}, regarding: {previous.rstrip(' ?')}?"


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


class LLMRewriter:
    """The chat model rewrites; the rules stand in when it fails or rambles."""

    def __init__(self, llm: BaseChatModel, prompts_dir: Path) -> None:
        self.llm = llm
        self.template = load_chat_prompt(prompts_dir, "followup")
        self.fallback = RuleRewriter()

    def messages(self, question: str, history: list[Turn]) -> list[BaseMessage]:
        lines = [f"User: {t.standalone_question}\nAssistant: {t.answer}" for t in history[-4:]]
        return self.template.format_messages(history="\n\n".join(lines), question=question.strip())

    def rewrite(self, question: str, history: list[Turn]) -> str:
        if not history:
            return question.strip()
        try:
            reply = self.llm.invoke(self.messages(question, history))
        except Exception:  # any provider failure: the rules still give a usable question
            return self.fallback.rewrite(question, history)
        text = reply.content if isinstance(reply.content, str) else ""
        text = text.strip().strip('"“”').strip()
        if not text or "\n" in text or len(text) > 400:
            return self.fallback.rewrite(question, history)
        return text

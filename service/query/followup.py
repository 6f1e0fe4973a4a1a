"""Follow-up questions → standalone questions, so retrieval searches what the user meant.

"And what about West Oxfordshire?" means nothing to a search index; after "How much funding
was allocated to Cherwell District Council?" it means "How much funding was allocated to West
Oxfordshire?". Two rewriters share one interface:

- `RuleRewriter` (no LLM): a message with a continuation opener ("and …", "what about …"),
  a bare short phrase, or a pronoun is read against the previous standalone question. A new
  focus replaces the part of that question it contrasts — a year for a year, a figure for a
  figure, a name for a name, a phrase for the object of the last preposition — and a pronoun
  is replaced by the previous question's subject (its first name).
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

from ingest.text.words import QUESTION_OPENERS
from service.conversations import Turn
from service.llm.prompts import load_chat_prompt

_OPENER = re.compile(
    r"^(?:(?:and|but|also|so|ok|okay|then)[\s,]+)?"
    r"(?:(?:what|how)\s+about|what\s+of|(?:and\s+)?(?:the\s+)?same\s+(?:for|in|with)|and)\s+"
    r"(?:(?P<prep>in|for|at|on|of|from|to|by|under|with|during)\s+)?(?P<focus>.+)$",
    re.IGNORECASE,
)
_PRONOUN = re.compile(
    r"\b(it|its|they|them|their|theirs|he|she|him|his|her|this|these|those)\b", re.I
)
_POSSESSIVE = frozenset({"its", "their", "his", "her"})
_YEAR = r"(?:19|20)\d{2}(?:\s*[-/–]\s*(?:19|20)?\d{2})?"
_NUMBER = r"[£$€]?\d+(?:[.,]\d+)*%?"
_CONNECTORS = frozenset({"of", "and", "&", "for", "the", "upon", "on"})
_PREPOSITIONS = frozenset(
    "in for at on of from to by under with during about into across".split()  # noqa: SIM905
)
# Prepositions that set a question's scope (where, for whom): the usual part a new name contrasts.
_SCOPE_PREPOSITIONS = frozenset(
    "in for at on of from to by under with during about into across".split()  # noqa: SIM905
)
_WORD = re.compile(r"[\w&'’/.£%-]+")
SHORT_FOLLOWUP_WORDS = 3  # a message this short with history is read as elliptical


class FollowUpRewriter(Protocol):
    def rewrite(self, question: str, history: list[Turn]) -> str: ...


@dataclass
class _Span:
    start: int
    end: int
    text: str
    kind: str  # "year", "number", "name"


def _spans(question: str) -> list[_Span]:
    """Years, figures and capitalised names in a question, in order."""
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
            while j + 1 < len(words) and re.fullmatch(r"\d+[A-Za-z]?", words[j + 1].group(0)):
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
    return "name" if focus[:1].isupper() else "phrase"


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z0-9£%/]+", text) if w.lower() not in QUESTION_OPENERS]


def _replace_focus(previous: str, focus: str, prep: str | None) -> str:
    kind = _kind(focus)
    spans = [s for s in _spans(previous) if s.kind == kind]
    if kind == "name" and spans:
        focus_words = {w.lower() for w in focus.split()}
        # A name that refines or generalises the old one ("Oxfordshire" → "West Oxfordshire")
        # is what it contrasts; otherwise the first name after a preposition (the scope of
        # the question: "in/for/to Cherwell"), else the first name (the question's subject).
        refined = [s for s in spans if {w.lower() for w in s.text.split()} <= focus_words
                   or focus_words <= {w.lower() for w in s.text.split()}]  # fmt: skip
        scoped = [s for s in spans if _word_before(previous, s.start) in _SCOPE_PREPOSITIONS]
        target = (refined or scoped or spans)[0]
        return previous[: target.start] + focus + previous[target.end :]
    if kind in ("year", "number") and spans:
        target = spans[-1] if kind == "year" else spans[0]
        return previous[: target.start] + focus + previous[target.end :]
    if kind == "phrase":
        # The object of the last preposition is what a bare phrase contrasts ("… about neglect?"
        # → "what about exploitation?").
        words = list(_WORD.finditer(previous))
        for word in reversed(words[:-1]):
            if word.group(0).lower() in _PREPOSITIONS and (
                prep is None or word.group(0).lower() == prep
            ):
                end = len(previous.rstrip(" ?.!"))
                return previous[: word.end()] + " " + focus + previous[end:]
    stem = previous.rstrip(" ?.!")
    return f"{stem} {prep or 'for'} {focus}?"


def _word_before(text: str, index: int) -> str:
    before = re.findall(r"[\w']+", text[:index])
    return before[-1].lower() if before else ""


def _subject(previous: str) -> str | None:
    names = [s for s in _spans(previous) if s.kind == "name"]
    if not names:
        return None
    name = names[0]
    return f"the {name.text}" if _word_before(previous, name.start) == "the" else name.text


class RuleRewriter:
    def rewrite(self, question: str, history: list[Turn]) -> str:
        question = question.strip()
        if not history:
            return question
        previous = history[-1].standalone_question
        bare = question.rstrip(" ?.!")
        opener = _OPENER.match(bare)
        if opener:
            focus = opener.group("focus").strip(" ,")
            prep = opener.group("prep")
            if _PRONOUN.search(focus) is None:
                return _replace_focus(previous, focus, prep.lower() if prep else None)
            bare = focus  # "and what did they decide" → a pronoun question
        words = _content_words(bare)
        pronoun = _PRONOUN.search(bare)
        if pronoun:
            subject = _subject(previous)
            if subject:
                replacement = f"{subject}'s" if pronoun.group(1).lower() in _POSSESSIVE else subject
                rewritten = bare[: pronoun.start()] + replacement + bare[pronoun.end() :]
                return _sentence_case(rewritten) + "?"
            return f"{_sentence_case(bare)}, regarding: {previous.rstrip(' ?')}?"
        if len(words) <= SHORT_FOLLOWUP_WORDS and not _starts_with_question_word(bare):
            return _replace_focus(previous, bare, None)
        if len(words) <= SHORT_FOLLOWUP_WORDS:  # "Why?", "How many?"
            return f"{_sentence_case(bare)}, regarding: {previous.rstrip(' ?')}?"
        return question


def _starts_with_question_word(text: str) -> bool:
    first = text.split(maxsplit=1)[0].lower() if text.split() else ""
    return first in QUESTION_OPENERS


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

"""What a question asks for: a person, a date, a count, an amount, a percentage, a decision, a
reason, a list of papers, or something else, and whether a sentence states that kind of thing.

The answerer puts first the sentence that states what was asked ("Who chairs …" → a sentence
naming a person or a role), and refuses when no candidate states it. Both read only the
words of the question and the sentence, nothing of any one council's papers.
"""

from __future__ import annotations

import re
from enum import StrEnum

from ingest.text.months import MONTH_WORD
from service.query.dates import DAY_OF_MONTH, YEAR, YEAR_SPAN


class AnswerKind(StrEnum):
    PERSON = "person"
    DATE = "date"
    COUNT = "count"
    AMOUNT = "amount"
    PERCENTAGE = "percentage"
    DECISION = "decision"
    REASON = "reason"
    PAPERS = "papers"  # "which papers / priorities / reviews …": a list of places
    OTHER = "other"


# What a list of places is made of; "which boards …" asks for bodies, not places.
_NOUNS_OF_PAPERS = (
    r"(?:papers?|documents?|reports?|priorities|reviews?|plans?|strategies|parts|sections)"
)

# What the question's words ask for; the earliest match in the question decides.
_ASKS: list[tuple[AnswerKind, re.Pattern[str]]] = [
    (AnswerKind.PAPERS, re.compile(
        rf"\bwhich {_NOUNS_OF_PAPERS}\b(?:,? (?:and|or) \w+)*|"
        r"\bwhere (?:do|does|is|are|in) (?:the )?(?:documents|papers)\b|"
        r"\bwhere is .{3,60}? (?:raised|mentioned|discussed)\b|"
        r"\bacross the (?:documents|papers)\b", re.I)),
    (AnswerKind.PERSON, re.compile(
        r"(?:^|[.?!,;:]\s+(?:and\s+)?)who(?:se|m)?\b|"
        r"\bwhich (?:councillor|member|officer|person|people|body|bodies|organisations?)\b|"
        r"\bname of the\b", re.I)),
    (AnswerKind.DATE, re.compile(
        r"\bwhen (?:is|was|were|are|did|does|do|will|would|should|must|can|could|has|have|"
        r"had)\b|\b(?:what|which|by what|until what|over which|on what) (?:date|dates|day|"
        r"year|month|deadline)\b|\buntil when\b", re.I)),
    (AnswerKind.PERCENTAGE, re.compile(
        r"\b(?:what|which) (?:share|percentage|proportion|fraction|per cent|rate)\b|"
        r"\bas a (?:share|percentage|proportion)\b|\bby what percentage\b|"
        r"\bwhat %", re.I)),
    (AnswerKind.COUNT, re.compile(
        r"\bhow many\b|\bwhat (?:number|total number) of\b|\bhow long\b|"
        r"\bhow (?:big|large|far|low|high)\b", re.I)),
    (AnswerKind.AMOUNT, re.compile(
        r"\bhow much\b|\bwhat (?:\w+ ){0,3}(?:cost|amount|budget|sum|funding|grant|rent|price|"
        r"value|income|allocation|requirement|spend|spending|savings?|overspend|deficit|"
        r"surplus|reserve|balance)\b", re.I)),
    (AnswerKind.DECISION, re.compile(
        r"\bwhat (?:did|was|were|has|have) .{0,80}?\b(?:decide|decided|agree|agreed|resolve|"
        r"resolved|approve|approved|conclude|concluded|recommend|recommended)\b|"
        r"\bhow did (?:the )?(?:vote|members vote)\b|\bwhat (?:happened|was the outcome)\b",
        re.I)),
    (AnswerKind.REASON, re.compile(r"\bwhy\b|\bfor what reason\b|\bwhat (?:was|is) the reason",
                                   re.I)),
]  # fmt: skip


def answer_kind(question: str) -> AnswerKind:
    """The kind of thing the question asks for, by the earliest of its asking phrases."""
    found = [(m.start(), kind) for kind, pattern in _ASKS if (m := pattern.search(question))]
    return min(found, key=lambda each: each[0])[1] if found else AnswerKind.OTHER


_HONORIFIC_NAME = re.compile(
    r"\b(?:Cllr|Councillor|Mr|Mrs|Ms|Miss|Dr|Professor|Prof|Sir|Dame|Lord|Lady)\.?\s+[A-Z]"
)
_ROLE = re.compile(
    r"\b(?:Chair(?:man|woman|person)?|Vice[- ]Chair(?:man)?|Director|Head of|Leader|"
    r"Chief Executive|Chief \w+ Officer|Cabinet Member|Manager|Officer|Commissioner|Mayor|"
    r"Secretary of State|Minister|Inspector|Lead Member|Portfolio Holder)\b"
)
_CAPITALS_NAME = re.compile(r"\b[A-Z][A-Z'-]{1,}\s+[A-Z][A-Z'-]{2,}\b")  # "RICHARD WEBB"
# "Amy Coombs", "Sam Hart": a forename and a surname (named with a role, it is a person).
_NAME = re.compile(
    r"\b(?!(?:The|A|An|This|That|These|Those|Our|Its|Their|His|Her|In|On|At|For|Of)\b)"
    r"[A-Z][a-z]+(?:\s[A-Z]\.)?\s[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b"
)
_DATE = re.compile(
    rf"{DAY_OF_MONTH.pattern}|\b{MONTH_WORD}\s+(?:19|20)\d{{2}}\b|"
    r"\b\d{1,2}/\d{1,2}/(?:19|20)?\d{2}\b|"
    r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b",
    re.I,
)
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\d])")
# "Table 2", "paragraph 10": numbers that point somewhere rather than count; "per 100,000":
# a rate's base, not the figure asked for.
_REFERENCE = re.compile(
    r"\b(?:tables?|figures?|fig\.?|appendix|appendices|annex(?:es)?|pages?|p\.|paragraphs?|"
    r"paras?\.?|items?|sections?|chapters?|priority|priorities|objectives?|phase|tier|"
    r"level|step|stage|year|no\.?|number|per)\s+\d[\d.,]*k?\b",
    re.I,
)
_NUMBER_WORD = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|thousand|million|billion|dozen|half|unanimous(?:ly)?)\b",
    re.I,
)
_AMOUNT = re.compile(r"[£$€]\s?\d|\b\d[\d,.]*\s?(?:m|bn|k|million|billion|pounds)\b", re.I)
_PERCENTAGE = re.compile(r"\d\s?%|\bper ?cent\b|\bpercentage points?\b", re.I)
_DECISION = re.compile(
    r"\b(?:RESOLVED|resolved|agreed|approved|decided|endorsed|adopted|carried|deferred|"
    r"unanimous(?:ly)?|voted?|rejected|refused|declined|noted|determined|concluded|"
    r"recommended|accepted|upheld|postponed|referred)\b",
)
_REASON = re.compile(
    r"\b(?:because|due to|as a result|owing to|in order to|so that|reasons?|since|"
    r"concerns? (?:about|over|regarding)|would not|not (?:taken forward|supported)|given that|"
    r"in response to|to ensure|to reflect|to avoid|to allow|to enable)\b",
    re.I,
)


def _counts(sentence: str) -> bool:
    without = _REFERENCE.sub(" ", YEAR.sub(" ", YEAR_SPAN.sub(" ", sentence)))
    return bool(_NUMBER.search(without) or _NUMBER_WORD.search(without))


def states(kind: AnswerKind, sentence: str) -> bool:
    """Whether the sentence states the kind of thing asked for (always, for OTHER and PAPERS:
    any sentence on the subject can answer those)."""
    match kind:
        case AnswerKind.PERSON:
            # A role alone ("The Chair introduced …") names nobody.
            return bool(
                _HONORIFIC_NAME.search(sentence)
                or _CAPITALS_NAME.search(sentence)
                or (_ROLE.search(sentence) and _NAME.search(_ROLE.sub(" ", sentence)))
            )
        case AnswerKind.DATE:
            return bool(_DATE.search(sentence) or YEAR.search(sentence))
        case AnswerKind.COUNT:
            return _counts(sentence)
        case AnswerKind.AMOUNT:
            return bool(_AMOUNT.search(sentence))
        case AnswerKind.PERCENTAGE:
            return bool(_PERCENTAGE.search(sentence))
        case AnswerKind.DECISION:
            return bool(_DECISION.search(sentence))
        case AnswerKind.REASON:
            return bool(_REASON.search(sentence))
    return True

"""What may be cited as a statement: never a heading, a label, a bare lead-in or a question."""

from __future__ import annotations

import pytest

from ingest.models import Chunk
from ingest.text.tokens import Tokenizer
from service.answers.extractive import following
from service.answers.statements import Statement, candidate_spans, reads_as_statement
from service.retrieval.hits import Hit


@pytest.mark.parametrize(
    ("text", "statement"),
    [
        ("The OPCC has allocated £712,271 to Oxfordshire for strategic partners.", True),
        ("Scrutiny Committee", False),  # a label
        ("Amendments to Time Limited Motions", False),  # a heading
        ("The criteria for unitary authorities are:", False),  # a lead-in without its list
        ("How long will funding continue for Millmead as a Health Living Centre?", False),
        (
            "Our priorities for 2017/18 are to: " + "Reduce anti-social behaviour " * 12,
            True,  # a list run together after its lead-in is one statement
        ),
        ("word " * 95, False),  # a table or contents run together
    ],
)
def test_only_statements_are_cited(text: str, statement: bool) -> None:
    assert reads_as_statement(text, text.split()) is statement


def test_candidates_are_spans_of_the_chunk_without_list_marks() -> None:
    text = "Key points\n\n• The board met in July.\n\n12. It agreed the plan."
    spans = candidate_spans(text)
    # "Key points" is too short to say anything; the marks "•" and "12." are layout
    assert [text[start:end] for start, end in spans] == [
        "The board met in July.",
        "It agreed the plan.",
    ]


def test_a_sentence_pointing_back_is_quoted_with_the_one_before() -> None:
    text = (
        "The scheme has lent £61.7m, of which £143k was written off. "
        "This represents 0.23% of the loans.\n\n"
        "This paragraph stands apart. The board met in July."
    )
    quoted = [text[start:end] for start, end in candidate_spans(text)]
    assert quoted == [
        "The scheme has lent £61.7m, of which £143k was written off.",
        "The scheme has lent £61.7m, of which £143k was written off. "
        "This represents 0.23% of the loans.",
        # a new paragraph's "This" points at nothing before it in the chunk
        "This paragraph stands apart.",
        "The board met in July.",
    ]


def test_a_sentence_pointing_back_stays_alone_when_the_two_would_be_too_long() -> None:
    before = "The council set out " + "many more words " * 45 + "in the report."
    text = f"{before} It was agreed."
    quoted = [text[start:end] for start, end in candidate_spans(text)]
    assert quoted == [before, "It was agreed."]


def _statement(chunk: Chunk, span: tuple[int, int], score: float) -> Statement:
    start, end = span
    return Statement(Hit(chunk, 1.0), start, end, chunk.text[start:end], {}, score)


def test_a_chosen_sentence_gives_way_to_itself_with_the_one_pointing_back_at_it() -> None:
    text = (
        "The lowest pay rate rises to £12.71 an hour. "
        "This exceeds the National Minimum Wage of £12.21 for those over 21. "
        "Agency rates rise as well."
    )
    chunk = Chunk(
        chunk_id="budget:1", doc_id="budget", version="v1", ordinal=1, text=text, page=1,
        page_end=1, section="", paragraph=None, kind="paragraph", char_start=0, char_end=0,
    )  # fmt: skip
    first, joined, other = candidate_spans(text)
    assert joined[0] == first[0]  # the second sentence was joined to the first
    ranked = [_statement(chunk, first, 9.0), _statement(chunk, other, 8.5),
              _statement(chunk, joined, 8.0)]  # fmt: skip
    chosen = following(ranked, Tokenizer(), most=4)
    assert [s.text for s in chosen] == [text[joined[0] : joined[1]], "Agency rates rise as well."]

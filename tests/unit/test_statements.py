"""What may be cited as a statement: never a heading, a label, a bare lead-in or a question."""

from __future__ import annotations

import pytest

from service.answers.statements import candidate_spans, reads_as_statement


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

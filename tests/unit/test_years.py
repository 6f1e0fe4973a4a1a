"""Short year spans ("23/24") read as written in full, wherever text is read for words or dates."""

from __future__ import annotations

import pytest

from ingest.text.tokens import Tokenizer
from ingest.text.years import full_year_spans
from service.query.dates import dates_named
from service.query.question import mentions, specific_terms


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("spent in 23/24.", "spent in 2023/24."),
        ("the FY23/24 outturn", "the FY 2023/24 outturn"),
        ("Q2 24/25, then 25/26", "Q2 2024/25, then 2025/26"),
        ("in 98/99", "in 1998/99"),
        # left as written: a day and month, a full date, a figure, not consecutive, a range
        ("met on 11/12 at ten", "met on 11/12 at ten"),
        ("dated 10/11/2024", "dated 10/11/2024"),
        ("2023/24", "2023/24"),
        ("ratio 23/25", "ratio 23/25"),
        ("£23/24", "£23/24"),
        ("23/24%", "23/24%"),
        ("pages 23-24", "pages 23-24"),
    ],
)
def test_a_short_year_span_is_read_in_full_and_nothing_else_is(text: str, read: str) -> None:
    assert full_year_spans(text) == read


def test_every_written_form_of_a_year_span_gives_the_same_words() -> None:
    tokenizer = Tokenizer()
    forms = ["in 23/24", "in 2023/24", "in 2023-24", "in FY23/24"]
    assert {tuple(w for w in tokenizer(form) if w != "fy") for form in forms} == {("2023", "24")}


def test_a_question_and_a_passage_may_write_the_year_short() -> None:
    assert specific_terms("How many families were helped in 23/24?") == ["2023/24"]
    assert mentions("2023/24", "In 23/24 the service supported 412 families.")
    assert not mentions("2024/25", "In 23/24 the service supported 412 families.")
    assert dates_named("the 23/24 annual report").years == {2023, 2024}

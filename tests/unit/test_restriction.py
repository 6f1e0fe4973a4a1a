"""A paper's own mark that it is not for the public, told from passing mentions."""

from __future__ import annotations

import pytest

from ingest.models import Line, Page
from ingest.reading.restriction import find_restriction


def pages(*texts: str) -> list[Page]:
    return [
        Page(number, tuple(Line(line) for line in text.split("\n")))
        for number, text in enumerate(texts, start=1)
    ]


@pytest.mark.parametrize(
    ("front", "quote"),
    [
        ("NOT FOR PUBLICATION\nCabinet\n4 March 2025\nProperty disposal", "NOT FOR PUBLICATION"),
        ("Cabinet\nPart 2 (Exempt)\nContract award", "Part 2 (Exempt)"),
        ("CONFIDENTIAL – DRAFT\nBriefing for members", "CONFIDENTIAL – DRAFT"),
        ("Draft\nMinutes of the meeting of the Area Committee", "Draft"),
        (
            "Cabinet 4 March 2025\nThis report is not for publication by virtue of paragraph 3\n"
            "of Part 1 of Schedule 12A of the Local Government Act 1972. It sets out the bids.",
            "This report is not for publication by virtue of paragraph 3 of Part 1 of Schedule"
            " 12A of the Local Government Act 1972.",
        ),
        ("Title\nAppendix B\nThe appendix contains exempt information about tenders.", None),
    ],
)
def test_a_mark_on_the_front_holds_the_paper(front: str, quote: str | None) -> None:
    found = find_restriction(pages(front))
    assert found is not None
    assert found.page == 1
    if quote is not None:
        assert found.quote == quote


@pytest.mark.parametrize(
    "front",
    [
        # a public agenda names the motion for its private items; it is not one of them
        "Cabinet agenda\n12. Motion to exclude the press and public for the following business"
        " on the grounds that it involves the likely disclosure of exempt information as defined"
        " in paragraph 3 of Part 1 of Schedule 12A of the Local Government Act 1972",
        "Budget 2025-26\nThe draft budget was published for consultation in November.",
        # a wrapped line's last word, low on the page, in lower case
        "Minutes\n"
        + "\n".join(f"line {n}" for n in range(20))
        + "\nThe committee noted the\ndraft.",
        "Report\nOfficers keep personal details confidential when handling complaints.",
    ],
)
def test_a_passing_mention_does_not(front: str) -> None:
    assert find_restriction(pages(front)) is None


def test_only_the_front_pages_are_read() -> None:
    assert find_restriction(pages("Report", "Contents", "NOT FOR PUBLICATION")) is None
    assert find_restriction(pages("Report", "NOT FOR PUBLICATION")) is not None

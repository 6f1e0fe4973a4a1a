"""The scoring rule of ../shared/eval/README.md, and the list of missed gold quotes."""

from __future__ import annotations

from typing import Any

from service.evaluation import Passage, evaluate, find_misses, quote_ranks, score_question

PASSAGES = [
    Passage("a", "The Board agreed its priorities for 2024/25."),
    Passage("b", "In 2016 there were 312 detentions under Section 136 of the Mental Health Act."),
    Passage("a", "Domestic abuse remains a joint priority for both safeguarding boards."),
]


def test_a_quote_is_ranked_where_its_own_document_first_holds_it() -> None:
    evidence = [
        {"doc": "a", "quote": "Domestic abuse remains a joint priority"},
        {"doc": "b", "quote": "there were 312 detentions under Section 136"},
        # the right words in the wrong document do not count
        {"doc": "b", "quote": "The Board agreed its priorities for 2024/25."},
    ]
    assert quote_ranks(evidence, PASSAGES) == [3, 2, None]


def test_a_question_scores_only_its_top_k() -> None:
    question = {
        "id": "x",
        "type": "multi",
        "evidence": [
            {"doc": "a", "quote": "Domestic abuse remains a joint priority"},
            {"doc": "b", "quote": "312 detentions under Section 136 of the Mental Health Act"},
        ],
    }
    score = score_question(question, PASSAGES, k=2)
    assert score.hits == [False, True]
    assert score.first_rank == 2


def test_misses_are_the_quotes_outside_the_top_k_with_their_deeper_rank() -> None:
    questions: list[dict[str, Any]] = [
        {
            "id": "x",
            "type": "multi",
            "question": "q",
            "evidence": [
                {"doc": "a", "quote": "The Board agreed its priorities"},
                {"doc": "a", "quote": "Domestic abuse remains a joint priority"},
                {"doc": "a", "quote": "Nothing like this is printed anywhere."},
            ],
        },
        {"id": "y", "type": "unanswerable", "question": "q", "evidence": []},  # nothing to miss
    ]

    def retrieve(question: str, k: int) -> list[Passage]:
        return PASSAGES[:k]

    report = evaluate(questions, retrieve, k=1)
    misses = find_misses(questions, report, retrieve, depth=3)
    assert [(m.question_id, m.quote[:20], m.rank) for m in misses] == [
        ("x", "Domestic abuse remai", 3),
        ("x", "Nothing like this is", None),
    ]

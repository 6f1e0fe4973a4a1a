"""The scoring rule of ../shared/eval/README.md, and the list of missed gold quotes."""

from __future__ import annotations

from typing import Any

from service.evaluation import (
    Answer,
    Passage,
    evaluate,
    figures_in,
    find_misses,
    quote_ranks,
    score_answer,
    score_question,
)

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
    score = score_question(question, PASSAGES)
    assert score.hits(2) == [False, True]
    assert score.first_rank(2) == 2
    assert (score.hits(3), score.first_rank(1)) == ([True, True], None)


def test_every_cut_off_is_scored_on_one_list_asked_for_the_deepest() -> None:
    asked: list[int] = []

    def retrieve(question: str, k: int) -> list[Passage]:
        asked.append(k)
        return PASSAGES[:k]

    question = {
        "id": "x",
        "type": "fact",
        "question": "q",
        "evidence": [{"doc": "a", "quote": "Domestic abuse remains a joint priority"}],
    }
    figures = evaluate([question], retrieve, ks=[3, 1]).figures()
    assert asked == [3]
    assert (figures["hit@1"], figures["hit@3"], figures["mrr@3"], figures["mrr"]) == (
        0.0,
        1.0,
        0.333,
        0.333,
    )


def test_documents_are_compared_by_file_name_without_extension() -> None:
    # a gold `doc` or a passage's source may carry the extension; dots inside a name stay
    evidence = [
        {"doc": "a.pdf", "quote": "Domestic abuse remains a joint priority"},
        {"doc": "plan 2023.24", "quote": "The Board agreed its priorities"},
    ]
    passages = [
        Passage("minutes/A.PDF", PASSAGES[2].text),
        Passage("plan 2023.pdf", PASSAGES[0].text),
    ]
    assert quote_ranks(evidence, [Passage("a.pdf", PASSAGES[2].text)]) == [1, None]
    assert quote_ranks(evidence, passages) == [None, None]  # case and folders are the name's own
    assert quote_ranks(evidence, [Passage("plan 2023.24.pdf", PASSAGES[0].text)]) == [None, 1]


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

    report = evaluate(questions, retrieve, ks=[1])
    misses = find_misses(questions, report, retrieve, depth=3)
    assert [(m.question_id, m.quote[:20], m.rank) for m in misses] == [
        ("x", "Domestic abuse remai", 3),
        ("x", "Nothing like this is", None),
    ]


ANSWERABLE: dict[str, Any] = {
    "id": "f1",
    "type": "fact",
    "question": "How many detentions were there in 2016?",
    "answer": "312 detentions under Section 136 in 2016, 15% fewer.",
    "evidence": [{"doc": "b", "quote": "In 2016 there were 312 detentions under Section 136"}],
}


def test_an_answer_is_scored_by_its_first_citation_and_any_citation() -> None:
    off_topic = Passage("a", "Domestic abuse remains a joint priority for both boards.")
    # the gold words, but cited from another document, do not count
    wrong_paper = Passage("a", "In 2016 there were 312 detentions under Section 136")
    on_topic = Passage("b", "there were 312 detentions under Section 136 of the Act")
    first = score_answer(ANSWERABLE, Answer(True, "312 detentions [1]", [on_topic, off_topic]))
    later = score_answer(ANSWERABLE, Answer(True, "…", [off_topic, wrong_paper, on_topic]))
    assert (first.cited_first, first.cited_any) == (True, True)
    assert (later.cited_first, later.cited_any) == (False, True)


def test_a_refused_answer_misses_however_it_cites() -> None:
    on_topic = Passage("b", "In 2016 there were 312 detentions under Section 136")
    refused = score_answer(ANSWERABLE, Answer(False, "312 2016 15%", [on_topic]))
    assert (refused.cited_first, refused.cited_any, refused.figures_given) == (False, False, 0)


def test_figures_are_the_reference_runs_of_two_or_more_characters() -> None:
    # a one-digit number ("item 6") is not a figure; "2016/17" gives its two runs
    assert figures_in("£1,200 and 15% in 2016/17, item 6.") == {"1200", "15", "2016", "17"}
    quote = Passage("b", "there were 312 detentions")
    scored = score_answer(ANSWERABLE, Answer(True, "In 2016 [1]", [quote]))
    assert (scored.figures_wanted, scored.figures_given) == (4, 2)  # 312, 136, 2016, 15


def test_evaluate_scores_answers_only_for_the_types_the_rule_names() -> None:
    theme = {**ANSWERABLE, "id": "t1", "type": "theme"}
    unanswerable = {"id": "u1", "type": "unanswerable", "question": "q", "evidence": []}
    report = evaluate(
        [ANSWERABLE, theme, unanswerable],
        lambda question, k: PASSAGES[:k],
        ks=[2],
        answer=lambda question: Answer(True, "312 [1]", [PASSAGES[1]]),
    )
    figures = report.figures()
    assert [a.id for a in report.answers] == ["f1"]
    assert (figures["cited_first"], figures["unanswerable_refused"]) == (1.0, 0)

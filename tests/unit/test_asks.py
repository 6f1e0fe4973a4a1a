"""What a question asks for, and whether a sentence states it."""

from __future__ import annotations

import pytest

from service.query.asks import AnswerKind, answer_kind, states


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who chairs the Health and Wellbeing Board?", AnswerKind.PERSON),
        ("Can a councillor who is behind on council tax vote on the budget?", AnswerKind.OTHER),
        ("When was the portal due to become available?", AnswerKind.DATE),
        ("When a quarry is restored, for how many years must aftercare last?", AnswerKind.COUNT),
        ("By what date must proposals be submitted?", AnswerKind.DATE),
        ("How many people responded to the survey?", AnswerKind.COUNT),
        ("How much does the council pay for the contract?", AnswerKind.AMOUNT),
        ("What net revenue budget requirement did Council agree?", AnswerKind.AMOUNT),
        ("What share of the grant goes to public health?", AnswerKind.PERCENTAGE),
        ("What did the committee decide about the call-in?", AnswerKind.DECISION),
        ("Why was the option rejected?", AnswerKind.REASON),
        ("Which papers mention the loan scheme?", AnswerKind.PAPERS),
        ("Where do the documents mention forced marriage?", AnswerKind.PAPERS),
        ("What is the Neglect Practitioner Portal?", AnswerKind.OTHER),
    ],
)
def test_a_question_asks_for_the_kind_its_first_asking_words_name(
    question: str, kind: AnswerKind
) -> None:
    assert answer_kind(question) is kind


@pytest.mark.parametrize(
    ("sentence", "gives_a_figure"),
    [
        ("The review completed in October 2016 and reported in 2017/18.", False),
        ("In 2016 there were 312 detentions under Section 136.", True),
        ("See Table 2 and paragraph 10 of the 2024 report.", False),
        ("The OPCC has allocated £712,271 to Oxfordshire.", True),
        ("Deaths related to drug misuse: rate per 100,000 population.", False),
        ("The rate was 3.0 per 100,000 population.", True),
    ],
)
def test_a_year_or_a_reference_is_not_a_count(sentence: str, gives_a_figure: bool) -> None:
    assert states(AnswerKind.COUNT, sentence) is gives_a_figure


@pytest.mark.parametrize(
    ("kind", "sentence", "stated"),
    [
        (AnswerKind.PERSON, "Councillor Liz Leffman (Chair) Sam Hart (Vice-Chair)", True),
        (AnswerKind.PERSON, "The board met four times in the year.", False),
        (AnswerKind.PERSON, "The Chair introduced everybody to the meeting.", False),
        (AnswerKind.PERSON, "Amy Coombs, Head of Adoption Partnership South East, spoke.", True),
        (AnswerKind.PERSON, "RICHARD WEBB Head of Community Protection Services", True),
        (AnswerKind.DATE, "Proposals must be submitted by 28 November 2025.", True),
        (AnswerKind.DATE, "Proposals must be submitted soon.", False),
        (AnswerKind.AMOUNT, "The net revenue budget requirement of £1,530.9m.", True),
        (AnswerKind.AMOUNT, "The budget was agreed.", False),
        (AnswerKind.PERCENTAGE, "Over 42% of the grant is spent on public health.", True),
        (AnswerKind.PERCENTAGE, "Most of the grant is spent on public health.", False),
        (AnswerKind.DECISION, "RESOLVED that the plan be adopted.", True),
        (AnswerKind.DECISION, "The plan sets out four priorities.", False),
        (AnswerKind.REASON, "It was not taken forward as it would add no value.", True),
        (AnswerKind.OTHER, "Anything at all.", True),
    ],
)
def test_a_sentence_states_a_kind_by_its_words(
    kind: AnswerKind, sentence: str, stated: bool
) -> None:
    assert states(kind, sentence) is stated

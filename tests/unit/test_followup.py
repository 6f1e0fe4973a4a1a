"""Follow-ups rewritten into standalone questions: by rule (every shape of follow-up a chat user
types, read against the previous standalone question) and by a chat model (which falls back to
the rules)."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from service.conversations import Turn
from service.query.followup import LLMRewriter, RuleRewriter
from service.settings import PROJECT_ROOT

HWB = "Who chairs the Health and Wellbeing Board?"


def history(*standalone: str) -> list[Turn]:
    return [Turn(q, q, "an answer [1]", True) for q in standalone]


@pytest.mark.parametrize(
    ("previous", "follow_up", "standalone"),
    [
        # A new name replaces the name it contrasts, the rest of the question stays.
        (
            "How much funding was allocated to Cherwell District Council for 2021/22?",
            "And what about West Oxfordshire?",
            "How much funding was allocated to West Oxfordshire for 2021/22?",
        ),
        # A refinement of a name replaces it, not another name.
        (
            "What did the Safer Oxfordshire Partnership say about crime in Oxfordshire?",
            "what about West Oxfordshire",
            "What did the Safer Oxfordshire Partnership say about crime in West Oxfordshire?",
        ),
        # A name of the same kind (same head word) replaces it, wherever it stands.
        (
            "What did Cherwell District Council decide about the Local Plan?",
            "what about West Oxfordshire District Council?",
            "What did West Oxfordshire District Council decide about the Local Plan?",
        ),
        # Otherwise the name in the question's scope (after a preposition), not its subject.
        (
            "What did Oxfordshire County Council say about crime in Cherwell?",
            "what about West Oxfordshire?",
            "What did Oxfordshire County Council say about crime in West Oxfordshire?",
        ),
        (
            "How many children were in care in Oxfordshire in 2022?",
            "and for Kent?",
            "How many children were in care in Kent in 2022?",
        ),
        # A new name brings its own article, or none.
        (
            "What is the Neglect Practitioner Portal?",
            "and the Safeguarding Hub?",
            "What is the Safeguarding Hub?",
        ),
        # A month and year is a period, not a name to replace.
        (
            "What did the Health and Wellbeing Board discuss in March 2023?",
            "what about Cherwell?",
            "What did Cherwell discuss in March 2023?",
        ),
        # A name with a preposition is a scope: with none to replace, it is added.
        (HWB, "and for Kent?", "Who chairs the Health and Wellbeing Board for Kent?"),
        # A year replaces the year.
        (
            "What was the adult re-offending rate in Oxfordshire in 2014?",
            "and in 2013?",
            "What was the adult re-offending rate in Oxfordshire in 2013?",
        ),
        (
            "What was the Health and Wellbeing Board's budget in 2022/23?",
            "and in 2023/24?",
            "What was the Health and Wellbeing Board's budget in 2023/24?",
        ),
        (
            "How many children were in care in Oxfordshire in 2021/22?",
            "what about 2022/23?",
            "How many children were in care in Oxfordshire in 2022/23?",
        ),
        # ... also when the follow-up is a question whose only news is the year.
        (
            "What was the adult re-offending rate in Oxfordshire in 2014?",
            "and what was it in 2015?",
            "What was the adult re-offending rate in Oxfordshire in 2015?",
        ),
        # A question without a year takes the new one as its scope.
        (
            "What are the priorities of the Health and Wellbeing Board?",
            "what about 2023/24?",
            "What are the priorities of the Health and Wellbeing Board for 2023/24?",
        ),
        # A bare short phrase is elliptical too.
        (
            "How much did crime increase in West Oxfordshire?",
            "Cherwell?",
            "How much did crime increase in Cherwell?",
        ),
        # A plain phrase replaces the object of the last preposition that has a plain object.
        (
            "What did the OSCB report about neglect?",
            "what about exploitation?",
            "What did the OSCB report about exploitation?",
        ),
        (
            "What did the OSCB report about neglect in 2019?",
            "what about exploitation?",
            "What did the OSCB report about exploitation in 2019?",
        ),
        # A phrase with an article replaces the previous question's own "the …" phrase.
        (
            "What is the budget of the Health and Wellbeing Board for 2023/24?",
            "and the deficit?",
            "What is the deficit of the Health and Wellbeing Board for 2023/24?",
        ),
        # With no phrase to replace, the phrase is what is asked, of the previous topic.
        (HWB, "and the vice chair?", "Who is the vice chair of the Health and Wellbeing Board?"),
        # A question that names no topic of its own asks about the previous one's.
        (HWB, "and who is vice chair?", "Who is vice chair of the Health and Wellbeing Board?"),
        (
            "Who chaired the Health and Wellbeing Board in 2022/23?",
            "And who was vice chair?",
            "Who was vice chair of the Health and Wellbeing Board in 2022/23?",
        ),
        (
            HWB,
            "what are the main priorities?",
            "What are the main priorities of the Health and Wellbeing Board?",
        ),
        # Pronouns take the previous question's subject.
        (
            "What is the Neglect Practitioner Portal?",
            "When will it be available?",
            "When will the Neglect Practitioner Portal be available?",
        ),
        (
            "Who wrote the Safer Oxfordshire Partnership protocol?",
            "What are its aims?",
            "What are the Safer Oxfordshire Partnership's aims?",
        ),
        (
            "What is the Safer Oxfordshire Partnership?",
            "who chairs its coordination group?",
            "Who chairs the Safer Oxfordshire Partnership's coordination group?",
        ),
        (
            "What does the Joint Health and Wellbeing Strategy say about obesity?",
            "when was it adopted?",
            "When was the Joint Health and Wellbeing Strategy adopted?",
        ),
        (HWB, "and its budget?", "What is the Health and Wellbeing Board's budget?"),
        # ... and keep its period, unless the follow-up asks when.
        (
            "What did the Health and Wellbeing Board discuss in March 2023?",
            "what did they decide?",
            "What did the Health and Wellbeing Board decide in March 2023?",
        ),
        # After "What is/was X?", a pronoun of X's number is X; without a name, likewise.
        (
            "What was the adult re-offending rate in Oxfordshire in 2014?",
            "how does it compare with Kent?",
            "How does the adult re-offending rate in Oxfordshire in 2014 compare with Kent?",
        ),
        (
            "What is the council's policy on parking charges?",
            "When was it adopted?",
            "When was the council's policy on parking charges adopted?",
        ),
        # A bare question word asks the previous question again, with that question word.
        (
            "When did the Health and Wellbeing Board adopt the Pharmaceutical Needs Assessment?",
            "Why?",
            "Why did the Health and Wellbeing Board adopt the Pharmaceutical Needs Assessment?",
        ),
        (
            "Did the Health and Wellbeing Board approve the Better Care Fund plan?",
            "why?",
            "Why did the Health and Wellbeing Board approve the Better Care Fund plan?",
        ),
        (
            "How much funding was allocated to Cherwell in 2021/22?",
            "and why?",
            "Why was funding allocated to Cherwell in 2021/22?",
        ),
        (
            "How many people were detained under Section 136 in 2016?",
            "why?",
            "Why were people detained under Section 136 in 2016?",
        ),
        (
            "Which councils signed the Oxfordshire Growth Deal?",
            "How many?",
            "How many councils signed the Oxfordshire Growth Deal?",
        ),
        # A complete question is left alone: a new topic is not merged into the old one ...
        (
            "How many people were detained under Section 136 in 2016?",
            "What is the Health and Wellbeing Board's role in homelessness?",
            "What is the Health and Wellbeing Board's role in homelessness?",
        ),
        (
            HWB,
            "What is the council's policy on parking charges?",
            "What is the council's policy on parking charges?",
        ),
        # ... even when it opens with "and" (which goes).
        (
            HWB,
            "and what did the Health and Wellbeing Board decide about the Pharmaceutical Needs "
            "Assessment?",
            "What did the Health and Wellbeing Board decide about the Pharmaceutical Needs "
            "Assessment?",
        ),
        (
            HWB,
            "And how is Kent County Council tackling domestic abuse?",
            "How is Kent County Council tackling domestic abuse?",
        ),
    ],
)
def test_rule_rewriter(previous: str, follow_up: str, standalone: str) -> None:
    assert RuleRewriter().rewrite(follow_up, history(previous)) == standalone


def test_rule_rewriter_reads_against_the_latest_standalone_question() -> None:
    turns = history("What was the re-offending rate in Oxfordshire in 2014?") + [
        Turn("and in 2013?", "What was the re-offending rate in Oxfordshire in 2013?", "…", True)
    ]
    assert RuleRewriter().rewrite("What about Cherwell?", turns) == (
        "What was the re-offending rate in Cherwell in 2013?"
    )


def test_a_chain_of_follow_ups_keeps_the_topic() -> None:
    rewriter = RuleRewriter()
    turns = history(HWB)
    second = rewriter.rewrite("and who is vice chair?", turns)
    turns.append(Turn("and who is vice chair?", second, "…", True))
    assert rewriter.rewrite("and in 2022/23?", turns) == (
        "Who is vice chair of the Health and Wellbeing Board in 2022/23?"
    )


def test_first_question_is_never_rewritten() -> None:
    assert RuleRewriter().rewrite("  and what about it?  ", []) == "and what about it?"


def test_llm_rewriter_sends_the_history_and_uses_the_reply() -> None:
    model = FakeListChatModel(responses=["How much did West Oxfordshire receive in 2021/22?"])
    rewriter = LLMRewriter(model, PROJECT_ROOT / "prompts")
    turns = history("How much did Cherwell District Council receive in 2021/22?")
    messages = rewriter.messages("and West Oxfordshire?", turns)
    prompt = "\n".join(str(message.content) for message in messages)
    assert "How much did Cherwell District Council receive in 2021/22?" in prompt
    assert "Follow-up: and West Oxfordshire?" in prompt
    assert "{" not in prompt  # every placeholder filled
    assert rewriter.rewrite("and West Oxfordshire?", turns) == (
        "How much did West Oxfordshire receive in 2021/22?"
    )


def test_llm_rewriter_falls_back_to_the_rules_on_a_rambling_reply() -> None:
    model = FakeListChatModel(responses=["Sure! Here is the question:\nHow much …"])
    rewriter = LLMRewriter(model, PROJECT_ROOT / "prompts")
    turns = history("What was the adult re-offending rate in Oxfordshire in 2014?")
    assert rewriter.rewrite("and in 2013?", turns) == (
        "What was the adult re-offending rate in Oxfordshire in 2013?"
    )
    model = FakeListChatModel(responses=["Sure! Here is the question:\nWho …"])
    rewriter = LLMRewriter(model, PROJECT_ROOT / "prompts")
    assert rewriter.rewrite("and who is vice chair?", history(HWB)) == (
        "Who is vice chair of the Health and Wellbeing Board?"
    )

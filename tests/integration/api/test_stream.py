"""`POST /ask/stream` through the ASGI app over the sample corpus: event order, content type,
deltas that join into the final answer, and verified citations in `done`."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from ingest.text.sentences import sentence_spans
from service.answers import NOT_COVERED
from service.answers.llm import LLMAnswerer
from service.api.app import create_app
from service.api.routes.stream import answer_pieces
from service.citations import is_verbatim
from service.container import Services
from service.retrieval.hits import chunk_hits
from service.settings import Settings

Event = tuple[str, dict[str, Any]]


@pytest.fixture
def client(corpus_services: Services, settings: Settings) -> Iterator[TestClient]:
    # The app's own (fresh) data folder holds the conversations; the corpus index is shared.
    with TestClient(create_app(settings, services=corpus_services)) as client:
        yield client


def stream(client: TestClient, body: dict[str, Any]) -> tuple[str, list[Event]]:
    events: list[Event] = []
    with client.stream("POST", "/ask/stream", json=body) as response:
        assert response.status_code == 200, response.read()
        content_type = response.headers["content-type"]
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                assert name is not None
                events.append((name, json.loads(line.removeprefix("data: "))))
                name = None
    return content_type, events


def test_events_arrive_in_order_and_the_deltas_join_into_the_answer(client: TestClient) -> None:
    content_type, events = stream(
        client, {"question": "How many people were detained under Section 136 in 2016?"}
    )
    assert content_type.startswith("text/event-stream")
    names = [name for name, _ in events]
    assert names[0] == "passages"
    assert names[-1] == "done"
    assert set(names[1:-1]) <= {"delta", "citation"}
    assert names.count("delta") >= 1
    done = events[-1][1]
    assert done["answered"] is True
    assert "".join(data["text"] for name, data in events if name == "delta") == done["answer"]
    assert done["items"] == list_items(done["answer"], done["items"])
    # Each citation is announced before the first delta that cites it.
    announced: set[int] = set()
    for name, data in events:
        if name == "citation":
            announced.add(data["n"])
        elif name == "delta":
            for n in (int(x) for x in re.findall(r"\[(\d+)\]", data["text"])):
                assert n in announced, (n, data["text"])
    assert "312" in done["answer"]


def test_done_carries_verified_citations_quoted_from_the_passages(client: TestClient) -> None:
    _, events = stream(
        client, {"question": "What was the adult re-offending rate in Oxfordshire in 2014?"}
    )
    passages = {p["chunk_id"]: p for p in events[0][1]["passages"]}
    done = events[-1][1]
    assert done["citations"]
    streamed = [data for name, data in events if name == "citation"]
    assert streamed == done["citations"]
    for citation in done["citations"]:
        assert citation["verified"] is True
        assert citation["chunk_id"] in passages  # cited from what was retrieved
        assert is_verbatim(citation["quote"], passages[citation["chunk_id"]]["text"])
        assert (
            citation["url"]
            == f"/documents/{citation['document']['id']}/file#page={citation['page']}"
        )
        assert f"[{citation['n']}]" in done["answer"]


def test_stream_and_ask_give_the_same_answer(client: TestClient) -> None:
    question = {"question": "What reduction in crime did the Oxford Police Commander report?"}
    _, events = stream(client, question)
    done = events[-1][1]
    asked = client.post("/ask", json=question).json()
    for key in (
        "answer",
        "answered",
        "mode",
        "citations",
        "items",
        "question",
        "rewritten_question",
    ):
        assert done[key] == asked[key], key
    assert done["conversation_id"] != asked["conversation_id"]  # each started its own


def test_an_uncovered_question_streams_the_refusal(client: TestClient) -> None:
    # A year no paper mentions: the evidence check refuses rather than answer about another.
    _, events = stream(client, {"question": "What was the adult re-offending rate in 1987?"})
    assert [name for name, _ in events][0] == "passages"
    done = events[-1][1]
    assert done["answered"] is False
    assert done["citations"] == []
    assert "".join(d["text"] for n, d in events if n == "delta") == NOT_COVERED


def test_follow_up_is_searched_as_a_standalone_question(client: TestClient) -> None:
    _, first = stream(
        client, {"question": "What was the adult re-offending rate in Oxfordshire in 2014?"}
    )
    conversation_id = first[0][1]["conversation_id"]
    assert first[-1][1]["conversation_id"] == conversation_id
    _, second = stream(client, {"question": "and in 2013?", "conversation_id": conversation_id})
    passages = second[0][1]
    assert passages["question"] == "and in 2013?"
    assert (
        passages["rewritten_question"]
        == "What was the adult re-offending rate in Oxfordshire in 2013?"
    )
    done = second[-1][1]
    assert done["rewritten_question"] == passages["rewritten_question"]
    assert done["conversation_id"] == conversation_id


def test_unknown_conversation_is_a_404_before_any_event(client: TestClient) -> None:
    response = client.post("/ask/stream", json={"question": "and then?", "conversation_id": "nope"})
    assert response.status_code == 404
    assert "conversation" in response.json()["detail"]


def test_a_blank_question_is_rejected(client: TestClient) -> None:
    assert client.post("/ask/stream", json={"question": "   "}).status_code == 422


@pytest.mark.parametrize(
    "answer",
    [
        "One thing. [1] Another thing [2] and more. [3][4]",
        "No markers at all. Just sentences! Right?",
        "Trailing [1]",
        "",
        "The papers list:\n- Reduce ASB [1]\n- Reduce risk, as 1:2 [2][3]",
    ],
)
def test_answer_pieces_join_back_exactly(answer: str) -> None:
    pieces = answer_pieces(answer)
    assert "".join(pieces) == answer
    assert all(pieces)
    if "\n- " in answer:  # a list: its lead, then one piece per "- " line
        assert pieces == [
            "The papers list:",
            "\n- Reduce ASB [1]",
            "\n- Reduce risk, as 1:2 [2][3]",
        ]
    if "[3][4]" in answer:
        assert pieces[-1].endswith("[3][4]")
        assert not pieces[-2].endswith("[3]")


def llm_stream(
    corpus: Services, settings: Settings, question: str, replies: list[AIMessage]
) -> list[Event]:
    """The events of `question` streamed from the corpus index answered by a LangChain fake
    chat model with queued replies."""
    model = GenericFakeChatModel(messages=iter(replies))
    answerer = LLMAnswerer(corpus.index, settings, model)
    services = dataclasses.replace(corpus, settings=settings, answerer=answerer, llm=model)
    with TestClient(create_app(settings, services=services)) as client:
        _, events = stream(client, {"question": question})
    return events


def test_llm_answer_streams_tokens_then_checked_citations(
    corpus_services: Services, settings: Settings
) -> None:
    question = "What was the adult re-offending rate in Oxfordshire in 2014?"
    hits = chunk_hits(corpus_services.retriever.search(question, k=6))  # as the model sees them
    passage = hits[0].chunk.text
    start, end = max(sentence_spans(passage), key=lambda span: span[1] - span[0])
    quote = passage[start:end]
    reply = f'The papers give the rate in one passage [1].\nQUOTES:\n[1] "{quote}"'
    events = llm_stream(corpus_services, settings, question, [AIMessage(reply)])
    names = [name for name, _ in events]
    assert names[0] == "passages"
    assert names[-1] == "done"
    assert names.count("delta") > 3  # the model's tokens, not one block
    assert names.index("citation") > max(i for i, n in enumerate(names) if n == "delta")
    done = events[-1][1]
    assert done["mode"] == "llm"
    assert "".join(d["text"] for n, d in events if n == "delta") == done["answer"]
    assert "QUOTES" not in done["answer"]
    [citation] = done["citations"]
    assert citation["verified"] is True
    assert is_verbatim(citation["quote"], passage)


def test_llm_failure_mid_stream_is_an_error_event(
    corpus_services: Services, settings: Settings
) -> None:
    question = "What was the adult re-offending rate in Oxfordshire in 2014?"
    events = llm_stream(corpus_services, settings, question, [])  # the model has nothing to say
    assert [name for name, _ in events] == ["passages", "error"]
    assert "chat model" in events[-1][1]["detail"]


def list_items(answer: str, items: list[str]) -> list[str]:
    """`items` when the answer is a lead followed by them as "- " lines, else [] (a prose
    answer must have no items): what every `/ask` and `done` answer must satisfy."""
    if items and answer.endswith("".join(f"\n- {item}" for item in items)):
        return items
    return []


def test_llm_list_answer_carries_its_items_in_done(
    corpus_services: Services, settings: Settings
) -> None:
    question = "What was the adult re-offending rate in Oxfordshire in 2014?"
    hits = chunk_hits(corpus_services.retriever.search(question, k=6))  # as the model sees them
    assert len(hits) >= 2
    # Numbered, and citing passage 2 first: the checked answer is renumbered and its list
    # rewritten as "- " lines, so the stream ends with a `replace` before the citations.
    reply = (
        "Two passages give figures:\n"
        "1. The rate is given in one passage [2]\n"
        "2. Another passage gives more [1]\n"
    )
    events = llm_stream(corpus_services, settings, question, [AIMessage(reply)])
    names = [name for name, _ in events]
    assert names[0] == "passages"
    assert names[-1] == "done"
    assert names.count("replace") == 1
    assert max(i for i, n in enumerate(names) if n == "delta") < names.index("replace")
    assert names.index("replace") < names.index("citation")
    done = events[-1][1]
    assert done["items"] == [
        "The rate is given in one passage [1]",
        "Another passage gives more [2]",
    ]
    assert done["answer"] == (
        "Two passages give figures:\n- The rate is given in one passage [1]"
        "\n- Another passage gives more [2]"
    )
    replaced = next(data["text"] for name, data in events if name == "replace")
    assert replaced == done["answer"]
    streamed = "".join(data["text"] for name, data in events if name == "delta")
    assert streamed == reply.strip()
    assert [c["chunk_id"] for c in done["citations"]] == [
        hits[1].chunk.chunk_id,
        hits[0].chunk.chunk_id,
    ]

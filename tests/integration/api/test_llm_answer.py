"""The LLM answerer, end to end through `POST /ask` over the real sample corpus.

The only stand-in is the chat model: LangChain fake chat models (real `BaseChatModel`
subclasses with queued replies). Each reply is written the way a model would write it, from
the passages the real retriever returns for the question, so the tests do not depend on how
the corpus happens to be chunked.
"""

from __future__ import annotations

import dataclasses
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS
from fastapi.testclient import TestClient
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatResult
from pydantic import Field
from pypdf import PdfReader

from ingest.text.sentences import split_sentences
from service.answers import NOT_COVERED, AnswerResult
from service.answers.llm import LLMAnswerer
from service.api.app import create_app
from service.citations import is_verbatim, verbatim_span
from service.container import Services
from service.llm.models import make_chat_model
from service.llm.replies import split_reply
from service.retrieval.hits import Hit, chunk_hits
from service.settings import Settings

QUESTION = (
    "How many cases of neighbour nuisance did the Anti-Social Behaviour Investigation Team "
    "look into in 2014?"
)
FACT = "investigated over 680 cases of neighbour nuisance in 2014"
UNANSWERABLE = "What is the population of Mars?"


class RecordingChatModel(GenericFakeChatModel):
    """A fake chat model that also keeps the messages of every call it receives."""

    received: list[list[BaseMessage]] = Field(default_factory=list)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.received.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


class FailingChatModel(BaseChatModel):
    """A chat model whose endpoint refuses the connection."""

    @property
    def _llm_type(self) -> str:
        return "failing-fake"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        raise ConnectionError("connection refused by 127.0.0.1:9")


class HungChatModel(BaseChatModel):
    """A chat model that does not answer until released (or 30 s pass)."""

    release: threading.Event = Field(default_factory=threading.Event)

    @property
    def _llm_type(self) -> str:
        return "hung-fake"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.release.wait(30)
        raise ConnectionError("released without an answer")


def recording(*replies: str) -> RecordingChatModel:
    return RecordingChatModel(messages=iter([AIMessage(reply) for reply in replies]))


@pytest.fixture
def answer_settings(corpus_services: Services) -> Settings:
    return corpus_services.settings.model_copy(update={"llm_timeout": 0.5})


@pytest.fixture
def ask(corpus_services: Services, settings: Settings, answer_settings: Settings) -> Any:
    """POST /ask through an app whose answers come from the given chat model."""

    def post(llm: BaseChatModel, question: str, **overrides: Any) -> Any:
        answer_settings_ = answer_settings.model_copy(update=overrides)
        answerer = LLMAnswerer(corpus_services.index, answer_settings_, llm)
        services = dataclasses.replace(
            corpus_services, settings=answer_settings_, answerer=answerer
        )
        with TestClient(create_app(settings, services=services)) as client:
            return client.post("/ask", json={"question": question})

    return post


def passages(corpus_services: Services, question: str) -> list[Hit]:
    """The passages the answerer will be given, numbered as the model sees them: what `/ask`
    retrieves, as many as it uses, chunk by chunk."""
    limit = corpus_services.settings.answer_passages
    return chunk_hits(corpus_services.retriever.search(question, k=6)[:limit])


def passage_with(hits: list[Hit], words: str) -> int:
    numbers = [n for n, hit in enumerate(hits, start=1) if is_verbatim(words, hit.chunk.text)]
    assert numbers, f"retrieval did not return a passage with {words!r}"
    return numbers[0]


def letters(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.replace("’", "'")).lower()


def test_answer_through_ask_cites_verbatim_quotes_on_the_right_pages(
    corpus_services: Services, ask: Any
) -> None:
    hits = passages(corpus_services, QUESTION)
    fact = passage_with(hits, FACT)
    other = next(n for n in range(len(hits), 0, -1) if n != fact)
    other_quote = max(split_sentences(hits[other - 1].chunk.text), key=len)
    # The model cites the other passage first, so both get renumbered by first appearance.
    reply = (
        f"Related work is described in the papers [{other}]. The Anti-Social Behaviour "
        f"Investigation Team investigated over 680 cases of neighbour nuisance in 2014 [{fact}]."
        f'\n\nQUOTES:\n[{fact}] "{FACT}"\n[{other}] "{other_quote}"'
    )
    model = recording(reply)
    response = ask(model, QUESTION)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "llm"
    assert body["answered"] is True
    assert body["warnings"] == []
    assert re.findall(r"\[\d+\]", body["answer"]) == ["[1]", "[2]"]
    assert body["answer"].endswith("in 2014 [2].")
    first, second = body["citations"]
    assert [first["n"], second["n"]] == [1, 2]
    assert first["chunk_id"] == hits[other - 1].chunk.chunk_id
    assert second["chunk_id"] == hits[fact - 1].chunk.chunk_id
    assert second["quote"] == FACT
    assert second["document"]["id"].startswith("2015-02-02")
    pdfs = {path.stem: PdfReader(path) for path in CORPUS.glob("*.pdf")}
    for citation, hit in ((first, hits[other - 1]), (second, hits[fact - 1])):
        assert citation["verified"] is True
        assert is_verbatim(citation["quote"], hit.chunk.text)
        reader = pdfs[citation["document"]["source"].removesuffix(".pdf")]
        pages = range(citation["page"], citation["page_end"] + 1)
        page_text = "".join(reader.pages[p - 1].extract_text() for p in pages)
        assert letters(citation["quote"]) in letters(page_text)
        assert citation["url"].endswith(f"#page={citation['page']}")


def test_bad_marker_and_fabricated_quote_are_dropped_or_flagged(
    corpus_services: Services, ask: Any
) -> None:
    hits = passages(corpus_services, QUESTION)
    fact = passage_with(hits, FACT)
    other = 2 if fact == 1 else 1
    reply = (
        f"The team investigated over 680 cases of neighbour nuisance in 2014 [{fact}]. "
        f"The council also banned dogs from every park in the city [{other}][9]."
        f'\n\nQUOTES:\n[{fact}] "{FACT}"\n[{other}] "dogs are banned from every park"\n'
        '[9] "a passage that was never given"'
    )
    body = ask(recording(reply), QUESTION).json()

    assert body["answered"] is True
    assert "[9]" not in body["answer"]
    assert body["answer"].endswith("in the city [2].")
    good, fabricated = body["citations"]
    assert good["verified"] is True
    assert good["quote"] == FACT
    assert fabricated["verified"] is False
    assert "dogs" not in fabricated["quote"]
    assert is_verbatim(fabricated["quote"], hits[other - 1].chunk.text)
    assert any("[9]" in warning and "removed" in warning for warning in body["warnings"])
    assert any("[2]" in w and "unverified" in w and "dogs" in w for w in body["warnings"])


def test_marker_without_quote_falls_back_to_the_closest_sentence(
    corpus_services: Services, answer_settings: Settings
) -> None:
    hits = passages(corpus_services, QUESTION)
    fact = passage_with(hits, FACT)
    reply = f"Over 680 neighbour nuisance cases were investigated in 2014 [{fact}]."
    answerer = LLMAnswerer(corpus_services.index, answer_settings, recording(reply))
    result = answerer.answer(corpus_services.reader.read(QUESTION), hits)

    (citation,) = result.citations
    assert result.answer == "Over 680 neighbour nuisance cases were investigated in 2014 [1]."
    assert citation.chunk is hits[fact - 1].chunk
    assert citation.verified is True
    assert FACT in citation.quote
    assert is_verbatim(citation.quote, citation.chunk.text)


def test_model_that_raises_gives_502_naming_the_model(ask: Any) -> None:
    response = ask(FailingChatModel(), QUESTION)

    assert response.status_code == 502
    detail = response.json()["detail"]
    assert "FailingChatModel" in detail
    assert "connection refused" in detail
    assert "Check that the endpoint" in detail


def test_unreachable_openai_endpoint_gives_502_naming_its_url(
    ask: Any, answer_settings: Settings
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    chat = make_chat_model(answer_settings.model_copy(update={"llm_base_url": url}))
    response = ask(chat, QUESTION, llm_timeout=10.0)

    assert response.status_code == 502
    assert url in response.json()["detail"]
    assert "ChatOpenAI" in response.json()["detail"]


def test_hung_model_gives_504_within_the_timeout(ask: Any) -> None:
    model = HungChatModel()
    try:
        started = time.monotonic()
        response = ask(model, QUESTION, llm_timeout=0.5)
        elapsed = time.monotonic() - started
    finally:
        model.release.set()

    assert response.status_code == 504
    assert "did not answer within 0.5 s" in response.json()["detail"]
    assert elapsed < 5  # retrieval plus the 0.5 s deadline, not the model's 30 s


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never replies."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    server.close()


def test_silent_openai_endpoint_gives_504(
    ask: Any, answer_settings: Settings, silent_server: str
) -> None:
    chat = make_chat_model(answer_settings.model_copy(update={"llm_base_url": silent_server}))
    started = time.monotonic()
    response = ask(chat, QUESTION, llm_timeout=0.5)

    assert response.status_code == 504, response.text
    assert silent_server in response.json()["detail"]
    assert time.monotonic() - started < 5


def test_unanswerable_question_is_refused_without_calling_the_model(ask: Any) -> None:
    model = recording("This reply must never be used [1].")
    body = ask(model, UNANSWERABLE).json()

    assert body == {**body, "answered": False, "answer": NOT_COVERED, "citations": []}
    assert model.received == []
    assert next(model.messages) == AIMessage("This reply must never be used [1].")


def test_model_refusal_token_gives_not_covered(corpus_services: Services, ask: Any) -> None:
    model = recording("NOT_IN_PAPERS")
    body = ask(model, QUESTION).json()

    assert len(model.received) == 1
    assert body["answered"] is False
    assert body["answer"] == NOT_COVERED


def test_prompt_files_reach_the_model(
    corpus_services: Services, answer_settings: Settings, tmp_path: Path
) -> None:
    hits = passages(corpus_services, QUESTION)
    model = recording("NOT_IN_PAPERS")
    LLMAnswerer(corpus_services.index, answer_settings, model).answer(
        corpus_services.reader.read(QUESTION), hits
    )

    (messages,) = model.received
    system, human = messages
    project_prompt = (answer_settings.prompts_dir / "answer.system.md").read_text().strip()
    assert isinstance(system, SystemMessage)
    assert system.content == project_prompt
    assert isinstance(human, HumanMessage)
    assert QUESTION in str(human.content)
    for n, hit in enumerate(hits, start=1):
        assert f'[{n}] "{hit.chunk.meta.title}"' in str(human.content)
        assert hit.chunk.text.strip() in str(human.content)

    # Prompts come from settings.prompts_dir, not from code.
    (tmp_path / "answer.system.md").write_text("Answer like a careful clerk.\n")
    (tmp_path / "answer.human.md").write_text("Q: {question}\n\n{passages}\n")
    custom = answer_settings.model_copy(update={"prompts_dir": tmp_path})
    model = recording("NOT_IN_PAPERS")
    LLMAnswerer(corpus_services.index, custom, model).answer(
        corpus_services.reader.read(QUESTION), hits
    )
    assert model.received[0][0].content == "Answer like a careful clerk."
    assert str(model.received[0][1].content).startswith(f"Q: {QUESTION}\n\n[1] ")


@pytest.mark.parametrize("streamed", [False, True], ids=["answer", "stream_tokens"])
def test_streamed_and_whole_answers_agree(
    corpus_services: Services, answer_settings: Settings, streamed: bool
) -> None:
    hits = passages(corpus_services, QUESTION)
    fact = passage_with(hits, FACT)
    reply = f'Over 680 cases were investigated [{fact}].\n\nQUOTES:\n[{fact}] "{FACT}"'
    answerer = LLMAnswerer(corpus_services.index, answer_settings, recording(reply))
    deltas: list[str] = []
    if streamed:
        tokens = answerer.stream_tokens(corpus_services.reader.read(QUESTION), hits)
        while True:
            try:
                deltas.append(next(tokens))
            except StopIteration as finished:
                result: AnswerResult = finished.value
                break
        assert len(deltas) > 1
        assert "".join(deltas) == f"Over 680 cases were investigated [{fact}]."
    else:
        result = answerer.answer(corpus_services.reader.read(QUESTION), hits)

    assert result.answer == "Over 680 cases were investigated [1]."
    assert [(c.n, c.quote, c.chunk.chunk_id) for c in result.citations] == [
        (1, FACT, hits[fact - 1].chunk.chunk_id)
    ]


def test_reply_parsing_tolerates_model_habits() -> None:
    reply = (
        "<think>Passage 2 has it.</think>The plan was agreed [2, 3].\n\n**Quotes:**\n"
        '- [2]: “the plan was agreed”\n[3] "funding … for two years"'
    )
    answer, quotes = split_reply(reply)
    assert answer == "The plan was agreed [2, 3]."
    assert quotes == {2: ["the plan was agreed"], 3: ["funding … for two years"]}
    headerless = split_reply('It rose [1].\n[1] "rose by 9%"')
    assert headerless == ("It rose [1].", {1: ["rose by 9%"]})

    passage = "The  Board’s\nfunding was agreed for two years, from April."
    assert verbatim_span("Board's funding was agreed", passage) == "Board’s\nfunding was agreed"
    assert verbatim_span("funding … for two years", passage) == "for two years"
    assert verbatim_span("funding … for ten years", passage) is None
    assert verbatim_span("funding was cut", passage) is None


def test_chat_model_is_chosen_by_provider(answer_settings: Settings) -> None:
    openai = make_chat_model(
        answer_settings.model_copy(update={"llm_model": "m1", "llm_base_url": "http://h:1/v1"})
    )
    assert type(openai).__name__ == "ChatOpenAI"
    assert (openai.model_name, openai.openai_api_base) == ("m1", "http://h:1/v1")  # type: ignore[attr-defined]
    assert (openai.request_timeout, openai.max_retries) == (0.5, 1)  # type: ignore[attr-defined]

    ollama = make_chat_model(
        answer_settings.model_copy(update={"llm_provider": "ollama", "llm_model": "m2"})
    )
    assert type(ollama).__name__ == "ChatOllama"
    assert ollama.model == "m2"  # type: ignore[attr-defined]
    assert ollama.client_kwargs == {"timeout": 0.5}  # type: ignore[attr-defined]


@pytest.mark.parametrize("bullet", ["- ", "* ", "1. "], ids=["dash", "star", "numbered"])
def test_bulleted_reply_is_a_list_answer_with_items(
    corpus_services: Services, answer_settings: Settings, bullet: str
) -> None:
    hits = passages(corpus_services, QUESTION)
    fact = passage_with(hits, FACT)
    other = next(n for n in range(len(hits), 0, -1) if n != fact)
    marks = [bullet, bullet] if bullet != "1. " else ["1. ", "2. "]
    # The model cites the other passage first: the items carry the renumbered markers.
    reply = (
        "Two passages cover neighbour nuisance:\n\n"
        f"{marks[0]}Related work is described in the papers [{other}]\n"
        f"{marks[1]}The team investigated over 680 cases of neighbour nuisance in 2014 [{fact}]"
        f'\n\nQUOTES:\n[{fact}] "{FACT}"'
    )
    answerer = LLMAnswerer(corpus_services.index, answer_settings, recording(reply))
    result = answerer.answer(corpus_services.reader.read(QUESTION), hits)

    assert result.items == [
        "Related work is described in the papers [1]",
        "The team investigated over 680 cases of neighbour nuisance in 2014 [2]",
    ]
    assert result.answer == "Two passages cover neighbour nuisance:" + "".join(
        f"\n- {item}" for item in result.items
    )
    assert [c.chunk.chunk_id for c in result.citations] == [
        hits[other - 1].chunk.chunk_id,
        hits[fact - 1].chunk.chunk_id,
    ]
    assert result.citations[1].quote == FACT
    assert result.warnings == []  # the lead-in needs no marker of its own


@pytest.mark.parametrize(
    "body",
    [
        "Over 680 cases were investigated in 2014 [{fact}].",
        # A list followed by more prose is not a lead and its entries: it stays prose.
        "The papers say:\n- over 680 cases in 2014 [{fact}]\nThat was a record year [{fact}].",
        # No lead sentence before the bullets.
        "- over 680 cases in 2014 [{fact}]\n- a record year [{fact}]",
    ],
    ids=["prose", "prose-after-list", "no-lead"],
)
def test_reply_that_is_not_a_lead_and_bullets_has_no_items(
    corpus_services: Services, answer_settings: Settings, body: str
) -> None:
    hits = passages(corpus_services, QUESTION)
    fact = passage_with(hits, FACT)
    reply = body.format(fact=fact)
    answerer = LLMAnswerer(corpus_services.index, answer_settings, recording(reply))
    result = answerer.answer(corpus_services.reader.read(QUESTION), hits)

    assert result.answered is True
    assert result.items == []
    assert result.answer == reply.replace(f"[{fact}]", "[1]")


def test_ask_returns_the_items_of_a_list_answer(corpus_services: Services, ask: Any) -> None:
    hits = passages(corpus_services, QUESTION)
    fact = passage_with(hits, FACT)
    reply = (
        "The papers report:\n"
        f"* over 680 cases of neighbour nuisance investigated in 2014 [{fact}]\n"
        f"* the work of the Anti-Social Behaviour Investigation Team [{fact}]\n"
        f'\nQUOTES:\n[{fact}] "{FACT}"'
    )
    body = ask(recording(reply), QUESTION).json()

    assert body["answered"] is True
    assert body["items"] == [
        "over 680 cases of neighbour nuisance investigated in 2014 [1]",
        "the work of the Anti-Social Behaviour Investigation Team [1]",
    ]
    assert body["answer"] == "The papers report:" + "".join(f"\n- {i}" for i in body["items"])
    assert [c["n"] for c in body["citations"]] == [1]
    prose = ask(recording(f"Over 680 cases were investigated [{fact}]."), QUESTION).json()
    assert prose["items"] == []

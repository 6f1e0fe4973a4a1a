"""Every component of a running service, built here and nowhere else (no globals).

`build_services` makes what reads the papers (index, retriever, answerer, theme scanner,
summariser, the chat model when one is configured); `build_app_stores` makes the state a
served app keeps in its own data folder (conversations, stored summaries, the follow-up
rewriter). `create_app` and the CLI call these; tests pass real components (or a LangChain
fake chat model) in instead of patching anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from ingest.store.embeddings import BundledEmbeddings
from ingest.store.index import PaperIndex, SearchFilters
from service.answers import Answerer, AnswerResult
from service.answers.extractive import ExtractiveAnswerer
from service.conversations import ConversationStore
from service.query.followup import FollowUpRewriter, LLMRewriter, RuleRewriter
from service.query.question import QuestionReader
from service.retrieval.reranking import make_reranker
from service.retrieval.retriever import Retriever
from service.settings import Settings
from service.summaries import Summariser
from service.summaries.store import SummaryStore
from service.themes.scan import ThemeScanner


@dataclass
class Services:
    settings: Settings
    index: PaperIndex
    retriever: Retriever
    answerer: Answerer
    themes: ThemeScanner  # keeps the paragraph index and term vectors between scans
    summariser: Summariser
    reader: QuestionReader  # reads each question once, for retrieval and the answer alike
    llm: BaseChatModel | None = None  # the chat model, when answers use one

    def ask(self, question: str, k: int = 6, filters: SearchFilters | None = None) -> AnswerResult:
        read = self.reader.read(question)
        hits = self.retriever.search(read, k=k, filters=filters)
        return self.answerer.answer(read, hits)


@dataclass
class AppStores:
    """What a served app keeps in its own data folder, apart from the papers' index (tests
    serve one shared read-only corpus index from many apps)."""

    conversations: ConversationStore
    summaries: SummaryStore
    rewriter: FollowUpRewriter


def build_services(
    settings: Settings,
    *,
    embeddings: Embeddings | None = None,
    llm: BaseChatModel | None = None,
    chroma_client: Any | None = None,
) -> Services:
    embeddings = embeddings or BundledEmbeddings(batch_size=settings.embedding_batch_size)
    index = PaperIndex(settings, embeddings, chroma_client)
    reader = QuestionReader(index, settings)
    retriever = Retriever(index, settings, make_reranker(settings), reader)
    if llm is None and settings.answerer == "llm":
        from service.llm.models import make_chat_model

        llm = make_chat_model(settings)
    answerer: Answerer
    summariser: Summariser
    if llm is not None:
        from service.answers.llm import LLMAnswerer
        from service.summaries.llm import LLMSummariser

        answerer = LLMAnswerer(index, settings, llm)
        summariser = LLMSummariser(index, settings, llm)
    else:
        from service.summaries.extractive import ExtractiveSummariser

        answerer = ExtractiveAnswerer(index, settings)
        summariser = ExtractiveSummariser(index, settings)
    themes = ThemeScanner(index)
    return Services(settings, index, retriever, answerer, themes, summariser, reader, llm)


def build_app_stores(settings: Settings, services: Services) -> AppStores:
    rewriter: FollowUpRewriter = (
        LLMRewriter(services.llm, settings.prompts_dir) if services.llm else RuleRewriter()
    )
    return AppStores(
        conversations=ConversationStore(settings.data_dir / "conversations.sqlite3"),
        summaries=SummaryStore.in_data_dir(settings.data_dir),
        rewriter=rewriter,
    )

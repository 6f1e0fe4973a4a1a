"""Every component of a running service, built here and nowhere else (no globals).

`build_services` makes what reads the papers (index, retriever, answerer, the chat model when
one is configured; the theme scanner and the summariser on first use); `build_app_stores`
makes the state a served app keeps in its own data folder (conversations, stored summaries,
the follow-up rewriter). `create_app` and the CLI call these; tests pass real components (or
a LangChain fake chat model) in instead of patching anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ingest.store.index import PaperIndex, SearchFilters
from service.answers import Answerer, AnswerResult
from service.query.asks import AnswerKind
from service.query.question import Question, QuestionReader
from service.retrieval.hits import Hit
from service.retrieval.reranking import make_reranker
from service.retrieval.retriever import Retriever
from service.settings import Settings

if TYPE_CHECKING:  # imported when first built: `ask` needs neither langchain's chat models
    # nor the theme scanner, the summariser, the conversations or the follow-up rewriter
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

    from service.access.audit import AuditLog
    from service.access.gate import Gate
    from service.access.limits import RateLimiter
    from service.conversations import ConversationStore
    from service.query.followup import FollowUpRewriter
    from service.summaries import Summariser
    from service.summaries.store import SummaryStore
    from service.themes.scan import ThemeScanner

T = TypeVar("T")


class _Once(Generic[T]):
    """A component built on first use, once, however many threads ask for it together."""

    def __init__(self) -> None:
        self._built: T | None = None
        self._building = threading.Lock()

    def get(self, build: Callable[[], T]) -> T:
        built = self._built
        if built is None:
            with self._building:
                if self._built is None:
                    self._built = build()
                built = self._built
        return built


@dataclass
class Services:
    settings: Settings
    index: PaperIndex
    retriever: Retriever
    answerer: Answerer
    reader: QuestionReader  # reads each question once, for retrieval and the answer alike
    llm: BaseChatModel | None = None  # the chat model, when answers use one
    # The theme scanner and the summariser are built when first used (`serve` warms the
    # scanner up): a one-shot `boardpapers ask` or `search` never pays for them.
    _themes: _Once[ThemeScanner] = field(default_factory=_Once, init=False, repr=False)
    _summariser: _Once[Summariser] = field(default_factory=_Once, init=False, repr=False)

    @property
    def themes(self) -> ThemeScanner:
        """Keeps the paragraph index and term vectors between scans."""
        return self._themes.get(self._make_themes)

    @property
    def summariser(self) -> Summariser:
        return self._summariser.get(self._make_summariser)

    def _make_themes(self) -> ThemeScanner:
        from service.themes.scan import ThemeScanner

        return ThemeScanner(self.index)

    def _make_summariser(self) -> Summariser:
        if self.llm is not None:
            from service.summaries.llm import LLMSummariser

            return LLMSummariser(self.index, self.settings, self.llm)
        from service.summaries.extractive import ExtractiveSummariser

        return ExtractiveSummariser(self.index, self.settings)

    def ask(self, question: str, k: int = 6, filters: SearchFilters | None = None) -> AnswerResult:
        read = self.reader.read(question)
        return self.answerer.answer(read, self.passages(read, k, filters))

    def passages(
        self, question: Question, k: int, filters: SearchFilters | None = None
    ) -> list[Hit]:
        """The passages an answer draws on; a list question ("which papers …") reaches
        deeper, since each paper gives one entry."""
        if question.asks_for is AnswerKind.PAPERS:
            k = max(k, self.settings.list_passages)
        return self.retriever.search(question, k=k, filters=filters, closeness=True)


@dataclass
class AppStores:
    """What a served app keeps in its own data folder, apart from the papers' index (tests
    serve one shared read-only corpus index from many apps)."""

    conversations: ConversationStore
    summaries: SummaryStore
    rewriter: FollowUpRewriter
    gate: Gate  # a request's key → its caller
    audit: AuditLog
    rate_limiter: RateLimiter


def build_services(
    settings: Settings,
    *,
    embeddings: Embeddings | None = None,
    llm: BaseChatModel | None = None,
    chroma_client: Any | None = None,
) -> Services:
    if embeddings is None:
        from ingest.store.embeddings import BundledEmbeddings

        embeddings = BundledEmbeddings(batch_size=settings.embedding_batch_size)
    index = PaperIndex(settings, embeddings, chroma_client)
    reader = QuestionReader(index, settings)
    retriever = Retriever(index, settings, make_reranker(settings), reader)
    if llm is None and settings.answerer == "llm":
        from service.llm.models import make_chat_model

        llm = make_chat_model(settings)
    answerer: Answerer
    if llm is not None:
        from service.answers.llm import LLMAnswerer

        answerer = LLMAnswerer(index, settings, llm)
    else:
        from service.answers.extractive import ExtractiveAnswerer

        answerer = ExtractiveAnswerer(index, settings)
    return Services(settings, index, retriever, answerer, reader, llm)


def build_app_stores(settings: Settings, services: Services) -> AppStores:
    from service.access.audit import AuditLog
    from service.access.gate import Gate
    from service.access.keys import KeyStore
    from service.access.limits import RateLimiter
    from service.conversations import ConversationStore
    from service.query.followup import LLMRewriter, RuleRewriter
    from service.summaries.store import SummaryStore

    rewriter: FollowUpRewriter = (
        LLMRewriter(services.llm, settings.prompts_dir) if services.llm else RuleRewriter()
    )
    return AppStores(
        conversations=ConversationStore(
            settings.conversations_database, settings.conversation_retention_days
        ),
        summaries=SummaryStore(settings.summaries_database),
        rewriter=rewriter,
        gate=Gate(KeyStore(settings.access_database), settings.roles),
        audit=AuditLog(settings.access_database, settings.audit_retention_days),
        rate_limiter=RateLimiter(settings.rate_limits),
    )

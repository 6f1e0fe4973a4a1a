"""The components of a running service, built once from settings (no globals).

`create_app` and the CLI both build a `Services`; tests pass real components (or a LangChain
fake chat model) in instead of patching anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from ingest.embeddings import BundledEmbeddings
from ingest.index import PaperIndex, SearchFilters

from .answers import Answerer, AnswerResult
from .answers.extractive import ExtractiveAnswerer
from .reranking import make_reranker
from .retrieval import Retriever
from .settings import Settings


@dataclass
class Services:
    settings: Settings
    index: PaperIndex
    retriever: Retriever
    answerer: Answerer
    llm: BaseChatModel | None = None  # the chat model, when answers use one

    def ask(self, question: str, k: int = 6, filters: SearchFilters | None = None) -> AnswerResult:
        hits = self.retriever.search(question, k=k, filters=filters)
        return self.answerer.answer(question, hits)


def build_services(
    settings: Settings,
    *,
    embeddings: Embeddings | None = None,
    llm: BaseChatModel | None = None,
    chroma_client: Any | None = None,
) -> Services:
    embeddings = embeddings or BundledEmbeddings(batch_size=settings.embedding_batch_size)
    index = PaperIndex(settings, embeddings, chroma_client)
    retriever = Retriever(index, settings, make_reranker(settings))
    answerer: Answerer
    if llm is not None or settings.answerer == "llm":
        from .answers.llm import LLMAnswerer, make_chat_model

        llm = llm or make_chat_model(settings)
        answerer = LLMAnswerer(index, settings, llm)
    else:
        answerer = ExtractiveAnswerer(index, settings)
    return Services(settings, index, retriever, answerer, llm)

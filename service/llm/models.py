"""The chat model the settings name (any OpenAI-compatible endpoint, or Ollama); its package
is imported only when chosen, with an install hint when it is missing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from langchain_core.language_models import BaseChatModel

from service.settings import Settings


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model the settings name; its package is imported only when chosen."""
    match settings.llm_provider:
        case "openai":
            with _installed("langchain-openai", "openai"):
                from langchain_openai import ChatOpenAI
            return ChatOpenAI(
                model=settings.llm_model,
                base_url=settings.llm_base_url,
                api_key=settings.llm_api_key,
                timeout=settings.llm_timeout,
                temperature=settings.llm_temperature,
                max_retries=1,
            )
        case "ollama":
            with _installed("langchain-ollama", "ollama"):
                from langchain_ollama import ChatOllama
            return ChatOllama(
                model=settings.llm_model,
                base_url=settings.llm_base_url,
                temperature=settings.llm_temperature,
                client_kwargs={"timeout": settings.llm_timeout},
            )
    raise ValueError(f"unknown LLM provider {settings.llm_provider!r}")


@contextmanager
def _installed(package: str, extra: str) -> Iterator[None]:
    """An ImportError inside says which package the provider `extra` needs and how to
    install it."""
    try:
        yield
    except ImportError as error:
        raise ImportError(
            f"BOARDPAPERS_LLM_PROVIDER={extra} needs the {package} package: "
            f"pip install 'boardpapers[{extra}]' (or pip install {package})"
        ) from error

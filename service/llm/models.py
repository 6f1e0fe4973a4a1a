"""The chat model the settings name (any OpenAI-compatible endpoint, or Ollama); its package
is imported only when chosen, with an install hint when it is missing."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from service.settings import Settings


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model the settings name; its package is imported only when chosen."""
    match settings.llm_provider:
        case "openai":
            try:
                from langchain_openai import ChatOpenAI
            except ImportError as error:
                raise ImportError(_install_hint("langchain-openai", "openai")) from error
            return ChatOpenAI(
                model=settings.llm_model,
                base_url=settings.llm_base_url,
                api_key=settings.llm_api_key,
                timeout=settings.llm_timeout,
                temperature=settings.llm_temperature,
                max_retries=1,
            )
        case "ollama":
            try:
                from langchain_ollama import ChatOllama
            except ImportError as error:
                raise ImportError(_install_hint("langchain-ollama", "ollama")) from error
            return ChatOllama(
                model=settings.llm_model,
                base_url=settings.llm_base_url,
                temperature=settings.llm_temperature,
                client_kwargs={"timeout": settings.llm_timeout},
            )
    raise ValueError(f"unknown LLM provider {settings.llm_provider!r}")


def _install_hint(package: str, extra: str) -> str:
    return (
        f"BOARDPAPERS_LLM_PROVIDER={extra} needs the {package} package: "
        f"pip install 'boardpapers[{extra}]' (or pip install {package})"
    )

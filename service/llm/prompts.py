"""Prompt templates: one Markdown file per chat message, placeholders in braces.

`load_chat_prompt(folder, "answer")` reads `answer.system.md` and `answer.human.md` into a
LangChain `ChatPromptTemplate`, so prompts are edited as text files, not in code. Literal
braces in a prompt file are written doubled (`{{`, `}}`), as in `str.format`.
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate

ROLES = ("system", "human")


class PromptNotFound(FileNotFoundError):
    """A prompt file the service needs is missing from the prompts folder."""


def read_prompt(folder: Path, name: str, role: str) -> str:
    path = folder / f"{name}.{role}.md"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError as error:
        raise PromptNotFound(
            f"prompt file {path} is missing; set BOARDPAPERS_PROMPTS_DIR to the folder holding "
            f"{name}.system.md and {name}.human.md (the project's prompts/ folder)"
        ) from error


def load_chat_prompt(folder: Path, name: str) -> ChatPromptTemplate:
    """The system and human messages of prompt `name`, as one chat template."""
    return ChatPromptTemplate.from_messages(
        [(role, read_prompt(folder, name, role)) for role in ROLES]
    )

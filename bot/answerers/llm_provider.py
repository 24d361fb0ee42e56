"""The chat model behind the LLM answerer, built from Settings through LangChain's init_chat_model.

Providers (ADVISOR_LLM_PROVIDER): openai, azure_openai, anthropic, google_genai, ollama, and
openai_compatible (any server speaking the OpenAI chat completions API at ADVISOR_LLM_BASE_URL: vLLM,
llama.cpp server, LM Studio...). langchain-openai is installed by default; the others need the extra
`pip install 'subsidy-advisor[llm-all]'` (or [anthropic], [google], [ollama]).

The model is built on first use (never at import) and kept by the answerer for the process. The API key
comes from ADVISOR_LLM_API_KEY or the provider's own variable (OPENAI_API_KEY, ANTHROPIC_API_KEY,
GOOGLE_API_KEY, AZURE_OPENAI_API_KEY), read by the provider's client; it is passed on as a SecretStr and never
logged.
"""

from __future__ import annotations

from typing import Any

from bot.config import Settings

PROVIDERS = {
    # our name: (init_chat_model provider, pip extra, integration package)
    "openai": ("openai", None, "langchain-openai"),
    "openai_compatible": ("openai", None, "langchain-openai"),
    "azure_openai": ("azure_openai", None, "langchain-openai"),
    "anthropic": ("anthropic", "anthropic", "langchain-anthropic"),
    "google_genai": ("google_genai", "google", "langchain-google-genai"),
    "ollama": ("ollama", "ollama", "langchain-ollama"),
}


class LLMConfigError(ValueError):
    """The LLM answerer is configured in a way that cannot work (unknown provider, missing package...)."""


def model_kwargs(settings: Settings) -> tuple[str, dict[str, Any]]:
    """The init_chat_model provider and keyword arguments for the configured provider."""
    name = settings.llm_provider.strip().lower()
    if name not in PROVIDERS:
        raise LLMConfigError(f"unknown ADVISOR_LLM_PROVIDER {settings.llm_provider!r}; "
                             f"choose one of: {', '.join(PROVIDERS)}")
    if not settings.llm_model:
        raise LLMConfigError("ADVISOR_LLM_MODEL is empty: name the model (for Azure OpenAI, the deployment)")
    provider = PROVIDERS[name][0]
    key = settings.llm_api_key
    timeout, retries = settings.llm_timeout, settings.llm_max_retries
    kwargs: dict[str, Any] = {"temperature": settings.llm_temperature}
    if name in {"openai", "openai_compatible"}:
        kwargs |= {"timeout": timeout, "max_retries": retries}
        if settings.llm_base_url:
            kwargs["base_url"] = settings.llm_base_url
        elif name == "openai_compatible":
            raise LLMConfigError("ADVISOR_LLM_PROVIDER=openai_compatible needs ADVISOR_LLM_BASE_URL "
                                 "(e.g. http://localhost:8000/v1 for vLLM, http://localhost:8080/v1 for llama.cpp)")
        if key is not None:
            kwargs["api_key"] = key
        elif name == "openai_compatible":
            from pydantic import SecretStr

            kwargs["api_key"] = SecretStr("not-needed")  # local servers take any key; the client insists on one
    elif name == "azure_openai":
        kwargs |= {"timeout": timeout, "max_retries": retries, "azure_deployment": settings.llm_model}
        if settings.llm_base_url:
            kwargs["azure_endpoint"] = settings.llm_base_url
        if settings.llm_api_version:
            kwargs["api_version"] = settings.llm_api_version
        if key is not None:
            kwargs["api_key"] = key
    elif name == "anthropic" or name == "google_genai":
        kwargs |= {"timeout": timeout, "max_retries": retries}
        if settings.llm_base_url:
            kwargs["base_url"] = settings.llm_base_url
        if key is not None:
            kwargs["api_key"] = key
    elif name == "ollama":
        kwargs["client_kwargs"] = {"timeout": timeout}  # Ollama's client has no retries of its own
        if settings.llm_base_url:
            kwargs["base_url"] = settings.llm_base_url
    return provider, kwargs


def make_chat_model(settings: Settings):
    """Build the configured LangChain chat model (a network client; no request is made here)."""
    provider, kwargs = model_kwargs(settings)
    name = settings.llm_provider.strip().lower()
    _, extra, package = PROVIDERS[name]
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:
        raise LLMConfigError("LLM answering needs the `langchain` package: pip install 'subsidy-advisor'") from exc
    try:
        return init_chat_model(settings.llm_model, model_provider=provider, **kwargs)
    except ImportError as exc:
        hint = f"pip install 'subsidy-advisor[{extra}]' (or [llm-all])" if extra else f"pip install {package}"
        raise LLMConfigError(f"ADVISOR_LLM_PROVIDER={name} needs the {package} package: {hint}") from exc

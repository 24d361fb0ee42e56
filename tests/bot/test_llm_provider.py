"""Building the configured chat model: provider names, keyword arguments, missing packages, secrets."""

import importlib.util
import subprocess
import sys

import pytest
from pydantic import SecretStr

from bot.answerers.llm_provider import LLMConfigError, make_chat_model, model_kwargs
from bot.config import Settings, SettingsError, get_settings

KEY = "sk-test-SECRET-0123456789"


def settings(**kw) -> Settings:
    return Settings(**{"llm_model": "m1", "llm_api_key": KEY, "llm_timeout": 7.0, "llm_max_retries": 3, **kw})


@pytest.mark.parametrize("provider, expected, extra", [
    ("openai", "openai", {}),
    ("openai_compatible", "openai", {"llm_base_url": "http://127.0.0.1:8080/v1"}),
    ("azure_openai", "azure_openai", {"llm_base_url": "https://r.openai.azure.com/", "llm_api_version": "2024-10-21"}),
    ("anthropic", "anthropic", {}),
    ("google_genai", "google_genai", {}),
    ("ollama", "ollama", {"llm_base_url": "http://127.0.0.1:11434"}),
])
def test_each_provider_gets_its_init_chat_model_arguments(provider, expected, extra):
    name, kwargs = model_kwargs(settings(llm_provider=provider, **extra))
    assert name == expected and kwargs["temperature"] == 0.0
    if provider == "ollama":
        assert kwargs == {"temperature": 0.0, "client_kwargs": {"timeout": 7.0}, "base_url": "http://127.0.0.1:11434"}
        return
    assert kwargs["timeout"] == 7.0 and kwargs["max_retries"] == 3
    assert isinstance(kwargs["api_key"], SecretStr) and kwargs["api_key"].get_secret_value() == KEY
    if provider == "openai_compatible":
        assert kwargs["base_url"] == "http://127.0.0.1:8080/v1"
    if provider == "azure_openai":
        assert kwargs["azure_endpoint"] == "https://r.openai.azure.com/" and kwargs["azure_deployment"] == "m1"
        assert kwargs["api_version"] == "2024-10-21"


def test_openai_compatible_needs_a_base_url_but_no_key():
    with pytest.raises(LLMConfigError, match="ADVISOR_LLM_BASE_URL"):
        model_kwargs(settings(llm_provider="openai_compatible"))
    _, kwargs = model_kwargs(settings(llm_provider="openai_compatible", llm_api_key=None, llm_base_url="http://h/v1"))
    assert kwargs["api_key"].get_secret_value() == "not-needed"


def test_bad_configuration_is_a_clear_error():
    with pytest.raises(LLMConfigError, match="ADVISOR_LLM_MODEL"):
        model_kwargs(settings(llm_model=""))


def test_an_unknown_provider_is_refused_when_the_settings_are_read_naming_the_choices(monkeypatch):
    monkeypatch.setenv("ADVISOR_LLM_PROVIDER", "skynet")
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match=r"ADVISOR_LLM_PROVIDER='skynet'.*'openai'.*'ollama'"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_openai_models_are_built_with_the_settings_and_hide_the_key():
    model = make_chat_model(settings(llm_provider="openai_compatible", llm_base_url="http://127.0.0.1:9/v1"))
    assert type(model).__name__ == "ChatOpenAI"
    assert model.openai_api_base == "http://127.0.0.1:9/v1" and model.request_timeout == 7.0
    assert model.max_retries == 3 and model.model_name == "m1"
    assert KEY not in repr(model) and KEY not in str(model.model_dump())
    azure = make_chat_model(settings(llm_provider="azure_openai", llm_base_url="https://r.openai.azure.com/",
                                     llm_api_version="2024-10-21"))
    assert type(azure).__name__ == "AzureChatOpenAI" and azure.deployment_name == "m1"


@pytest.mark.parametrize("provider, package, extra", [("anthropic", "langchain_anthropic", "anthropic"),
                                                      ("google_genai", "langchain_google_genai", "google"),
                                                      ("ollama", "langchain_ollama", "ollama")])
def test_optional_providers_name_their_extra_when_missing(provider, package, extra):
    s = settings(llm_provider=provider)
    if importlib.util.find_spec(package) is not None:
        assert make_chat_model(s) is not None  # installed: it builds without a request
        return
    with pytest.raises(LLMConfigError, match=rf"subsidy-advisor\[{extra}\]"):
        make_chat_model(s)


def test_settings_never_show_the_key():
    s = settings()
    assert KEY not in repr(s) and KEY not in str(s) and KEY not in s.model_dump_json()


def test_langchain_is_not_imported_until_an_llm_is_used():
    code = ("import sys, bot.cli, bot.engine, bot.web.app; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'langchain', 'langchain_openai', 'openai'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

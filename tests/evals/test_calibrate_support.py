"""The support calibration reads the built index (passages only) and separates evidence from other passages."""

from evals.calibrate_support import calibrate
from tests.conftest import ROOT


def test_evidence_supports_its_reference_sentences_more_than_another_document_does(corpus_settings):
    report = calibrate(str(ROOT / "evals" / "datasets" / "seed_qa.jsonl"), str(corpus_settings.data_dir))
    support = report["support"]
    assert support["positives"]["n"] > 100
    assert support["positives"]["median"] > support["other_document"]["median"] + 0.3

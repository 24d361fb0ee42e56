# Two commands set everything up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check -q
ADVISOR := $(BIN)/advisor

.PHONY: run test install install-dev index bench eval chat slack clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

# torch is pinned to the local CPU build first, so sentence-transformers does not pull CUDA wheels.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

.advisor/state.json: | $(VENV)/.installed
	$(ADVISOR) index

index: $(VENV)/.installed
	$(ADVISOR) index

# The web app on http://127.0.0.1:8000 (ADVISOR_HOST / ADVISOR_PORT change it); `make chat` for the terminal.
run: $(VENV)/.installed .advisor/state.json
	$(ADVISOR) serve

chat: $(VENV)/.installed .advisor/state.json
	$(ADVISOR) chat

# The Slack app over Socket Mode (SLACK_APP_TOKEN, SLACK_BOT_TOKEN); `make run` serves HTTP mode's /slack/events.
slack: $(VENV)/.installed .advisor/state.json
	$(ADVISOR) slack

test: $(VENV)/.installed-dev
	$(BIN)/pytest -q

bench: $(VENV)/.installed-dev .advisor/state.json
	$(BIN)/python -m evals.bench

# The quality gates: fail when a metric falls below evals/thresholds*.toml (Q&A, catalogue tables, finder).
eval: $(VENV)/.installed .advisor/state.json
	@mkdir -p reports
	$(ADVISOR) index -q
	$(ADVISOR) eval -q --dataset evals/datasets/seed_qa.jsonl --json reports/eval.json --html reports/eval.html \
		--gate evals/thresholds.toml
	$(ADVISOR) eval -q --dataset evals/datasets/catalogue_qa.jsonl --json reports/eval-catalogue.json \
		--html reports/eval-catalogue.html --gate evals/thresholds_catalogue.toml
	$(ADVISOR) eval -q --dataset evals/datasets/finder.jsonl --json reports/eval-finder.json \
		--gate evals/thresholds_finder.toml

clean:
	rm -rf $(VENV) .advisor

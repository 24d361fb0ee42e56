# Two commands set everything up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check -q
ADVISOR := $(BIN)/advisor

.PHONY: run test check install install-dev index bench eval eval-realdocs chat slack clean

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

# The fast lane while working: lint, types and the unit tests that need no corpus index, real PDF, child process,
# browser, service or server.
# `make test` stays the whole contract (what CI runs).
FAST := not slow and not corpus and not pdf and not subprocess and not browser and not chroma_server and not postgres and not redis \
	and not slack
check: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q -m "$(FAST)"

bench: $(VENV)/.installed-dev .advisor/state.json
	$(BIN)/python -m evals.bench
	$(BIN)/python -m evals.growth

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
	$(MAKE) --no-print-directory eval-realdocs

# Seeds + the real 公募要領 of ../shared/realdocs (added as a user would, in a corpus of its own); skipped,
# saying so, when that folder is not beside the checkout.
REALDOCS ?= ../shared/realdocs
RD := .advisor-realdocs
RD_ENV := ADVISOR_CORPUS_DIR=$(RD)/corpus ADVISOR_DATA_DIR=$(RD)/data
eval-realdocs: $(VENV)/.installed .advisor/state.json
	@mkdir -p reports
	@$(BIN)/python -m evals.realdocs --realdocs $(REALDOCS) --out $(RD); rc=$$?; \
	if [ $$rc -eq 3 ]; then exit 0; elif [ $$rc -ne 0 ]; then exit $$rc; fi; \
	$(RD_ENV) $(ADVISOR) index -q && \
	$(RD_ENV) $(ADVISOR) catalogue build && \
	$(RD_ENV) $(ADVISOR) eval -q --dataset evals/datasets/realdocs.jsonl --json reports/eval-realdocs.json \
		--html reports/eval-realdocs.html --gate evals/thresholds_realdocs.toml

clean:
	rm -rf $(VENV) .advisor $(RD)

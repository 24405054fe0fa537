# openclaw-compose: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The release before the tested one: the upgrade tests start on it (tests/docker/test_upgrade.py).
PREVIOUS_OPENCLAW := 2026.9.5
# Extra options for `make up`, e.g. UP_FLAGS=--adopt (.ci/run).
UP_FLAGS ?=
# pytest-xdist workers for `make test`: the Docker tests mostly wait on gateways, so two workers
# overlap them on a 2-core machine (each Docker module runs whole on one worker).
TEST_WORKERS ?= 2

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(STAMP) ## Create .venv and install the package with its dev tools

engine: ## Install and start the Docker engine and Compose v2 if missing (root)
	scripts/engine-bootstrap.sh

image: setup engine ## Build the gateway image(s) the profiles need once (cached by tag)
	$(BIN)/openclaw-compose build

browser-image: setup engine ## Build the gateway images with Chromium too (cached by tag)
	$(BIN)/openclaw-compose build --browser

previous-image: setup engine ## Build the image of the previous release (the upgrade tests need it)
	$(BIN)/openclaw-compose build --version $(PREVIOUS_OPENCLAW)

node-image: engine ## Build the swarm node image for the multi-node tests once (cached by tag)
	images/build.sh --node

up: setup image ## Set everything up and start main + rescue (the main job)
	$(BIN)/openclaw-compose up $(UP_FLAGS)

down: setup ## Stop main + rescue (volumes are kept)
	$(BIN)/openclaw-compose down

lint: setup ## ruff + mypy (strict)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup image browser-image previous-image node-image lint ## Set everything up, lint, and run all tests (Docker ones included)
	$(BIN)/pytest -n $(TEST_WORKERS)

bench: setup ## Benchmark check + generate (benchmarks/bench_core.py)
	$(BIN)/python -m benchmarks.bench_core

compose: setup ## Regenerate compose/ (the project for the embedded default)
	$(BIN)/openclaw-compose generate -o compose

golden: setup ## Rewrite tests/golden after an intended change to rendered output
	UPDATE_GOLDEN=1 $(BIN)/pytest -q tests/test_render_golden.py

.PHONY: help setup engine image browser-image previous-image node-image up down lint test bench compose golden

# The README's commands. Everything runs from a project-local virtualenv (.venv)
# so that a fresh clone needs nothing but python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench image-check clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/monitor run

test: install
	$(BIN)/ruff check monitor tests bench
	$(BIN)/pytest -q -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check monitor tests bench
	$(BIN)/ruff format --check monitor tests bench

bench: install
	$(BIN)/python bench/rules.py
	$(BIN)/python bench/gate.py
	$(BIN)/python bench/parse.py
	$(BIN)/python bench/stories.py
	$(BIN)/python bench/poll.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/console.py

# The container image, built without a Docker engine (buildah + a debootstrap base; needs root).
# Depends on install for hadolint, which it adds to .venv.
image-check: install
	bash .ci/image-check

clean:
	rm -rf $(VENV) data .pytest_cache

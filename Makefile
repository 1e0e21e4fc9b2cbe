# Everything a fresh clone needs: `make run` to use it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# requirements.in lists the direct dependencies; `make lock` compiles it into
# requirements.txt, the hashed lock of the whole tree. The lock is what gets installed.
# `make lock LOCK_ARGS=--upgrade` moves the unpinned transitive ones on.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --generate-hashes --allow-unsafe \
	--strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host $(LOCK_ARGS)

.PHONY: run test test-fast fuzz lint docs docs-build lock migrations-check bench bench-load venv clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing the locked dependencies into $(VENV) (about a minute on first run)..."
	$(PY) -m pip install --disable-pip-version-check --require-hashes -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) -m development.launcher

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The fast layer: no worker (process or thread), no network server, nothing slow.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not worker_process and not worker_thread and not server and not slow" $(PYTEST_ARGS)

# schemathesis against the API's own OpenAPI schema, seeded and bounded (fuzz/run.py).
fuzz: $(STAMP)
	$(PY) -m fuzz.run

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DEBUG=1 $(VENV)/bin/mypy  # the settings load with DEBUG on (no SECRET_KEY needed)

docs: $(STAMP)
	$(VENV)/bin/mkdocs serve

docs-build: $(STAMP)
	$(VENV)/bin/mkdocs build --strict -d var/site

lock: $(STAMP)
	$(PIP_COMPILE) --output-file requirements.txt requirements.in

migrations-check: $(STAMP)
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

bench: $(STAMP)
	$(PY) -m bench.run

# The sustained submission alone (about three minutes); make bench runs it too.
bench-load: $(STAMP)
	$(PY) -m bench.run --only sustained

clean:
	rm -rf $(VENV) var site .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .hypothesis

# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
CATALOGS := $(wildcard translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)
# pytest keeps its rewritten test modules as .pyc (git-ignored) even where the environment says not to
# write bytecode: collecting the suite then takes 1.8 s instead of 4.4 s in every worker after the first run.
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest
# One test worker more than there are cores: while one waits (a 5 s deadline, a kiosk's refresh, a
# server starting) the others keep both cores busy. Work stealing evens out the slow tests at the end.
WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
XDIST := -n $(WORKERS) --dist worksteal

.PHONY: run test test-pg screenshots lint wheel-check dist install translations extract-messages update-messages bench drill clean

run: $(STAMP) $(COMPILED)
	PRAATMEE_DEMO=1 $(BIN)/flask --app praatmee_site run --host 127.0.0.1 --port 5000

# The layers (import-linter) and the linter (ruff) first; then the suite on every core while the wheel
# check (mostly pip and disk) runs beside it. Either failing fails `make test`.
test: lint
	@$(BIN)/python .ci/wheel_check.py > $(VENV)/wheel-check.log 2>&1 & wheel=$$!; \
	$(PYTEST) $(XDIST) $(PYTEST_ARGS); suite=$$?; \
	wait $$wheel; checked=$$?; cat $(VENV)/wheel-check.log; \
	[ $$suite -eq 0 ] && [ $$checked -eq 0 ]

lint: $(TEST_STAMP) $(COMPILED)
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check praatmee_site tests benchmarks drill .ci

# Build the wheel, install it in a fresh venv, run gunicorn from another folder, check /, /en/ and a PDF.
wheel-check: $(TEST_STAMP) $(COMPILED)
	$(BIN)/python .ci/wheel_check.py

# The wheel that the deployment guide installs (docs/deployment.md), in dist/.
dist: $(STAMP) $(COMPILED)
	rm -rf dist build
	$(BIN)/python -m pip wheel --no-deps --quiet -w dist .
	@ls dist/*.whl

# The same suite against a throw-away PostgreSQL cluster (Debian's postgresql: apt-get install postgresql),
# started on a free loopback port in a temporary folder and removed afterwards, also when tests fail.
test-pg: $(TEST_STAMP) $(COMPILED)
	$(BIN)/python -m tests.support.servers postgres -- $(PYTEST) $(XDIST) $(PYTEST_ARGS)

# The browser tests, keeping a picture of every page they check in artifacts/ (for people; no test reads them).
screenshots: $(TEST_STAMP) $(COMPILED)
	PRAATMEE_TEST_SCREENSHOTS=1 $(PYTEST) $(XDIST) -m browser $(PYTEST_ARGS)

# Benchmarks, by hand (about 5 minutes): throughput beside hello world, page weight, upstream faults,
# posters, memory. Prints markdown tables for the README. BENCH_ARGS=throughput (or --quick) for a part.
bench: $(TEST_STAMP) $(COMPILED)
	@command -v wrk >/dev/null 2>&1 || { \
	  SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk; }
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# By hand: nginx in front of two gunicorn instances sharing PostgreSQL and Redis (README: "Deployment").
drill: $(TEST_STAMP) $(COMPILED)
	$(BIN)/python -m drill.run $(DRILL_ARGS)

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

translations: $(COMPILED)

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d translations -l $*

# Translators' workflow: extract new msgids from code and templates, then merge into each catalog.
extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o translations/messages.pot .

update-messages: extract-messages
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python translations/fill_en.py

clean:
	rm -rf $(VENV) instance .pytest_cache artifacts dist build
	find translations -name '*.mo' -delete

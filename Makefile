# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
CATALOGS := $(wildcard translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: run test test-pg install translations extract-messages update-messages bench drill clean

run: $(STAMP) $(COMPILED)
	PRAATMEE_DEMO=1 $(BIN)/flask --app praatmee_site run --host 127.0.0.1 --port 5000

test: $(TEST_STAMP) $(COMPILED)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite against a throw-away PostgreSQL cluster (Debian's postgresql: apt-get install postgresql),
# started on a free loopback port in a temporary folder and removed afterwards, also when tests fail.
test-pg: $(TEST_STAMP) $(COMPILED)
	$(BIN)/python -m tests.servers postgres -- $(BIN)/python -m pytest $(PYTEST_ARGS)

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
	rm -rf $(VENV) instance .pytest_cache artifacts
	find translations -name '*.mo' -delete

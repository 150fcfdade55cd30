# Every target installs what it needs into .venv first; see README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run serve test lint format migrations-check install install-dev bench soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

run: install
	mkdir -p var/staticfiles
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py load_roadmap
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Production-style: debug off, hashed static files, gunicorn (see gunicorn.conf.py and README).
serve: install
	DJANGO_DEBUG=$${DJANGO_DEBUG:-false} $(BIN)/python manage.py collectstatic --no-input -v0
	DJANGO_DEBUG=$${DJANGO_DEBUG:-false} $(BIN)/python manage.py migrate --no-input
	DJANGO_DEBUG=$${DJANGO_DEBUG:-false} $(BIN)/python manage.py createcachetable
	DJANGO_DEBUG=$${DJANGO_DEBUG:-false} $(BIN)/gunicorn -c gunicorn.conf.py config.wsgi

bench: install-dev
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# 32 connections reading, voting and tracking progress for 5 minutes on two app processes;
# the same flags as bench (SOAK_ARGS="--database-url ... --redis-url ...").
soak: install-dev
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

faults: install-dev
	$(BIN)/python bench/faults.py $(FAULTS_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install-dev
	$(BIN)/python manage.py makemigrations --check --dry-run

# Three workers on the two cores: much of a test's time is the database's or a browser's, which
# left a third of the CPU idle with two.
# axe-core for the accessibility browser test (an npm package, so not in requirements-dev.txt).
AXE := var/tools/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --prefix var/tools --no-save --no-audit --no-fund --silent axe-core@4.14.1

test: lint migrations-check $(AXE)
	mkdir -p var/staticfiles  # whitenoise looks for it when the app starts
	$(BIN)/python -m pytest -n 3 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var/staticfiles

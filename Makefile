# The two commands: `make run` (the whole app, demo data included) and `make test` (every test).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test install lint format bench clean

$(STAMP): requirements.txt package.json package-lock.json
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "error: Python 3.11 is needed (found $(PYTHON)); run: make PYTHON=/path/to/python3.11"; exit 1; }
	@command -v npm >/dev/null || { echo "error: npm is needed to install Bootstrap (apt-get install npm)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(STAMP)

install: $(STAMP)

# A local .env for `make run`: debug on and a fresh random secret key. Never used by CI or tests.
.env:
	@sed -e "s|^SECRET_KEY=.*|SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')|" \
		-e "s|^DJANGO_DEBUG=.*|DJANGO_DEBUG=1|" .env.example > .env
	@echo "made .env from .env.example (debug on, new secret key)"

run: install .env
	honcho run python manage.py migrate --noinput
	honcho run python manage.py seed_demo
	@echo ""
	@echo "  B12 Clinic is starting at http://127.0.0.1:8000/  (Ctrl-C stops the web server, worker and beat)"
	@echo ""
	honcho start

test: install
	pytest

lint: install
	ruff check .
	ruff format --check .
	DJANGO_DEBUG=1 python manage.py makemigrations --check --dry-run

format: install
	ruff format .
	ruff check --fix .

bench: install
	@for f in bench/bench_*.py; do echo "== $$f"; python $$f || exit 1; done

clean:
	rm -rf var/broker var/test .pytest_cache .hypothesis

# The two commands of the quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BENCH ?=

.PHONY: install demo test lint bench lock messages clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --seed 1 --logins-file .demo-logins
	@echo ""
	@echo "HEB Platform demo at http://127.0.0.1:8000  (console: /console/, admin: /admin/, API docs: /api/docs/)"
	@echo "Demo logins (also in .demo-logins):"
	@cat .demo-logins
	@echo ""
	@echo "A fleet of 6 virtual boxes uploads through the agent API (log: .demo-fleet.log)."
	DJANGO_DEBUG=true $(BIN)/python manage.py runserver 127.0.0.1:8000 & server=$$!; \
	$(BIN)/python manage.py simulate_fleet --gateways 6 --speed 60 --backfill-hours 2 \
		> .demo-fleet.log 2>&1 & fleet=$$!; \
	trap 'kill $$fleet $$server 2>/dev/null' EXIT INT TERM; \
	wait $$server

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python manage.py makemigrations --check --dry-run

bench: install
	$(BIN)/python bench/run.py $(BENCH)

# Refresh the pinned versions after changing pyproject.toml's dependencies.
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^heb-platform' > requirements.lock

# Recompile translations after editing locale/*/LC_MESSAGES/django.po (needs gettext).
messages: install
	$(BIN)/python manage.py makemessages -l fr -l nl -l it --ignore=.venv --ignore=staticfiles
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .demo-logins .demo-fleet.log .pytest_cache .mypy_cache .ruff_cache

# Two commands: `make run` (local server with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

# Optional local configuration (see .env.example); `make run` is a development server.
-include .env
export

.PHONY: run test install lint format check-deploy messages clean

$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed" or 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

run: export DEBUG ?= 1
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py dev_admin --url http://$(HOST):$(PORT)/admin/
	@echo "API: http://$(HOST):$(PORT)/api/v1/projects  docs: http://$(HOST):$(PORT)/api/docs/"
	@echo "A task worker runs beside the server (rescoring after a method is published)."
	$(BIN)/python manage.py db_worker --no-reload >/dev/null 2>&1 & trap 'kill $$!' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# In parallel: one worker per CPU, each with its own test database.
test: install
	$(BIN)/python -m pytest -n auto

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# What production settings say about themselves (must print no issues).
check-deploy: install
	DEBUG=0 SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	ALLOWED_HOSTS=sdgscore.example REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} $(BIN)/python manage.py check --deploy --fail-level WARNING

# The Japanese catalogue: extract every string marked for translation into
# locale/ja/LC_MESSAGES/django.po, then compile it (needs GNU gettext). Translate the new or
# changed entries (tests/web/test_catalogue_complete.py lists them), then run it again.
messages: install
	DEBUG=1 $(BIN)/python manage.py makemessages -l ja --no-obsolete --no-location --no-wrap \
	  --extension=html,txt,py,svg --ignore='.venv/*' --ignore='tests/*' --ignore='bench/*' \
	  --ignore='proof/*' --ignore='docs/*' --ignore='projects/migrations/*' --ignore='staticfiles/*'
	msgfmt --check --statistics -o locale/ja/LC_MESSAGES/django.mo locale/ja/LC_MESSAGES/django.po

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis

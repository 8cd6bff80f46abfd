# The two commands: `make demo` and `make test`. Everything else is a step of theirs or a tool.
SHELL := /bin/bash
PY := .venv/bin/python
SESSHU := .venv/bin/sesshu
PORT ?= 8000
RESIDENTS ?= 20000
SEED ?= 1
PG_URL ?= postgres://postgres@127.0.0.1:5432/sesshu
export DJANGO_SETTINGS_MODULE ?= sesshu.settings.demo

.PHONY: demo setup pg pdf-deps test lint test-sqlite test-postgres browser-deps bench bench-quick lock clean

.venv/.installed: requirements.lock requirements-dev.lock pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock -r requirements-dev.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# Compiled translations, collected static files and the compiled schedule engine (mypyc, under
# var/build/; used only while it matches the sources: docs/schedule.md) are build products, not sources.
setup: .venv/.installed
	@mkdir -p var
	$(SESSHU) compilemessages --ignore '.venv/*' -v 0
	$(SESSHU) collectstatic --noinput -v 0
	$(SESSHU) schedule compile

demo: setup pdf-deps
	$(SESSHU) migrate --noinput -v 0
	$(SESSHU) seed --residents $(RESIDENTS) --seed $(SEED)
	$(SESSHU) demo_staff
	@echo
	@echo "sesshu is running on http://127.0.0.1:$(PORT)/  (stop with Ctrl-C)"
	@echo "Log in with an account from var/demo-credentials.txt (readable only by you)."
	@# The batch worker (extractions, notices) runs beside the web server and stops with it.
	@$(SESSHU) db_worker & WORKER=$$!; trap "kill $$WORKER" EXIT INT TERM; \
	  $(SESSHU) runserver 127.0.0.1:$(PORT) --noreload

lint: .venv/.installed
	.venv/bin/ruff check sesshu tests bench
	.venv/bin/ruff format --check sesshu tests bench
	.venv/bin/lint-imports

# The browser suite drives Debian's Chromium, and pages need a Japanese font to render; install them
# when missing (CI machines run as root).
browser-deps:
	@command -v chromium >/dev/null && fc-list | grep -q "Noto Sans CJK" || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

test-sqlite: setup browser-deps pdf-deps
	DJANGO_SETTINGS_MODULE=sesshu.settings.test DATABASE_URL= .venv/bin/pytest -q

# PDFs embed Debian's IPAex fonts (TrueType: reportlab cannot embed Noto CJK's CFF outlines); the tests
# read PDFs back with poppler's pdftotext and pdftoppm, and their QR codes with zbar's zbarimg.
# Installed when missing (root on these machines).
pdf-deps:
	@test -f /usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf && command -v pdftotext >/dev/null \
	  && command -v zbarimg >/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	  fonts-ipaexfont-mincho fonts-ipaexfont-gothic poppler-utils zbar-tools >/dev/null; }

# PostgreSQL 15 on 127.0.0.1:5432 (trust auth on these machines): start it when it is down.
pg:
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
	@psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='sesshu'" | grep -q 1 \
	  || createdb -h 127.0.0.1 -U postgres sesshu

test-postgres: setup browser-deps pdf-deps pg
	DJANGO_SETTINGS_MODULE=sesshu.settings.test DATABASE_URL=$(PG_URL) .venv/bin/pytest -q

test: lint test-sqlite test-postgres

bench: setup pg
	DJANGO_SETTINGS_MODULE=sesshu.settings.test $(PY) -m bench --pg-url $(PG_URL)

bench-quick: setup pg
	DJANGO_SETTINGS_MODULE=sesshu.settings.test $(PY) -m bench --quick --pg-url $(PG_URL)

# Regenerate the pinned lock files after editing requirements*.in.
lock:
	python3 -m venv var/lockenv && var/lockenv/bin/pip install --quiet uv
	var/lockenv/bin/uv pip compile --python-version 3.11 --generate-hashes -q requirements.in -o requirements.lock
	var/lockenv/bin/uv pip compile --python-version 3.11 --generate-hashes -q requirements-dev.in -o requirements-dev.lock

clean:
	rm -rf .venv var/static

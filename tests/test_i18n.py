"""The Japanese catalogue is complete, and the screens speak Japanese by default and English on request."""

import ast
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from sesshu.accounts.middleware import SESSION_KEY

from .factories import make_staff

PO_FILE = settings.BASE_DIR / "locale" / "ja" / "LC_MESSAGES" / "django.po"


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgstrs (all plural forms), flags, obsolete (a tiny parser, no polib)."""
    entries: list[dict] = []
    entry: dict = {}
    field = None

    def finish():
        nonlocal entry
        if "msgid" in entry:
            entries.append(entry)
        entry = {}

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            field = None
            continue
        if line.startswith("#~"):
            entry["obsolete"] = True
            continue
        if line.startswith("#,"):
            entry.setdefault("flags", set()).update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            value = ast.literal_eval(line)
            if field == "msgstr":
                entry["msgstrs"][-1] += value
            else:
                entry[field] += value
            continue
        keyword, _, literal = line.partition(" ")
        value = ast.literal_eval(literal)
        if keyword in ("msgid", "msgid_plural", "msgctxt"):
            field = keyword
            entry[keyword] = value
        elif keyword.startswith("msgstr"):
            field = "msgstr"
            entry.setdefault("msgstrs", []).append(value)
    finish()
    return entries


def messages(path: Path) -> list[dict]:
    return [e for e in parse_po(path) if e["msgid"] and not e.get("obsolete")]


def test_every_message_has_a_japanese_translation():
    entries = messages(PO_FILE)
    assert len(entries) > 40
    untranslated = [e["msgid"] for e in entries if not all(s.strip() for s in e.get("msgstrs", [""]))]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e.get("flags", set())]
    assert untranslated == []
    assert fuzzy == []
    header = parse_po(PO_FILE)[0]
    assert header["msgid"] == ""
    assert "fuzzy" not in header.get("flags", set())
    assert "Plural-Forms: nplurals=1; plural=0;" in header["msgstrs"][0]


def test_msgfmt_accepts_the_catalogue():
    """gettext's own check: formats match, the header is complete, nothing untranslated or fuzzy."""
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "gettext is not installed (make setup needs it to compile the catalogue)"
    result = subprocess.run(  # noqa: S603  (fixed arguments)
        [msgfmt, "--check", "--statistics", "-o", "/dev/null", str(PO_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "translated message" in result.stderr
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr
    assert "warning" not in result.stderr


def test_compiled_catalogue_is_current(tmp_path):
    """The .mo the server loads is built from this .po (it is a build product: make setup compiles it)."""
    compiled = PO_FILE.with_suffix(".mo")
    assert compiled.exists(), "run: sesshu compilemessages (or make setup)"
    fresh = tmp_path / "django.mo"
    subprocess.run(  # noqa: S603  (fixed arguments)
        [shutil.which("msgfmt") or "msgfmt", "--check-format", "-o", str(fresh), str(PO_FILE)],
        check=True,
    )
    assert compiled.read_bytes() == fresh.read_bytes(), "django.mo is stale: run sesshu compilemessages"


def test_catalogue_covers_every_string_in_the_sources(tmp_path, monkeypatch):
    """makemessages on a copy of the sources finds nothing new and nothing stale."""
    source = tmp_path / "sesshu"
    shutil.copytree(
        settings.BASE_DIR,
        source,
        ignore=shutil.ignore_patterns("__pycache__", "static", "*.mo", "tests"),
    )
    monkeypatch.chdir(source)
    with override_settings(LOCALE_PATHS=[source / "locale"]):
        call_command("makemessages", locale=["ja"], ignore_patterns=["*/tests/*"], verbosity=0)
    regenerated = source / "locale" / "ja" / "LC_MESSAGES" / "django.po"
    stale = [e["msgid"] for e in parse_po(regenerated) if e.get("obsolete")]
    new = [e["msgid"] for e in messages(regenerated) if not all(s.strip() for s in e.get("msgstrs", [""]))]
    guessed = [e["msgid"] for e in messages(regenerated) if "fuzzy" in e.get("flags", set())]
    assert new == [], "run makemessages -l ja and translate these"
    assert guessed == [], "msgmerge guessed these; translate them properly"
    assert stale == [], "these are no longer in the sources; run makemessages -l ja"


@pytest.mark.django_db
def test_login_page_is_japanese_by_default(client):
    response = client.get("/accounts/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ja">' in html
    assert "ログイン" in html
    assert "ユーザーID" in html
    assert "パスワード" in html
    assert "Log in" not in html


@pytest.mark.django_db
def test_language_switch_turns_the_login_page_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"}, follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert '<html lang="en">' in html
    assert "Log in" in html
    assert "User name" in html
    assert "ログイン" not in html
    # The switch now offers the way back.
    assert "日本語" in html

    response = client.post("/i18n/setlang/", {"language": "ja", "next": "/accounts/login/"}, follow=True)
    assert "ログイン" in response.content.decode()


@pytest.mark.django_db
def test_home_page_in_both_languages(client):
    client.force_login(make_staff("clerk"))
    html = client.get("/").content.decode()
    for text in ("今日の業務", "個人検索", "ログアウト", "予防接種台帳", "氏名（漢字・カナ・ローマ字）"):
        assert text in html

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    for text in ("Person search", "Log out", "Immunization register"):
        assert text in html
    assert "Today's work" in html
    assert "今日の業務" not in html


@pytest.mark.django_db
def test_idle_logout_message_is_japanese(client):
    """The one message translated in Python code (the idle logout) reaches the login page in Japanese."""
    client.force_login(make_staff("clerk"))
    session = client.session
    session[SESSION_KEY] = time.time() - settings.SESSHU_IDLE_TIMEOUT_SECONDS - 60
    session.save()
    response = client.get("/", follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "一定時間操作がなかったため、自動的にログアウトしました。" in html


@pytest.mark.django_db
def test_an_english_browser_still_gets_japanese_until_english_is_chosen(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "ログイン" in response.content.decode()
    assert response["Content-Language"] == "ja"

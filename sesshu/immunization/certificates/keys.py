"""The city's SMART Health Card issuer keys: one P-256 key signs, every public key ever used is published.

- ``SESSHU_SHC_ISSUER_URL`` (setting or environment): the ``iss`` of every card, the address under which
  ``/.well-known/jwks.json`` is served (https in production; no trailing slash).
- ``SESSHU_SHC_KEY_PATH``: the signing key, a private JWK in a 0600 file. For the demo and the tests it
  defaults to ``var/keys/shc/issuer.jwk`` and is made on first use; under the production settings a
  missing key is an error, not a new key (docs/certificates.md).
- ``SESSHU_SHC_PUBLISHED_KEYS_DIR`` (default: ``published/`` beside the key): the public JWK of every key
  that ever signed, one ``<kid>.json`` each. Cards have no expiry, so a rotated key's public part stays
  published for as long as its cards are shown; only its private part leaves the server.

``kid`` is the key's RFC 7638 thumbprint (SHA-256, base64url), as the specification asks.
"""

import json
import os
import stat
import tempfile
import threading
from pathlib import Path

from django.conf import settings
from jwcrypto import jwk

DEFAULT_ISSUER = "http://127.0.0.1:8000"
_cache: dict[tuple[str, int], jwk.JWK] = {}
_lock = threading.Lock()


class IssuerKeyError(RuntimeError):
    """The issuer key is missing or unreadable: the server is set up wrong (docs/certificates.md)."""


def _setting(name: str, default: str = "") -> str:
    return str(getattr(settings, name, "") or os.environ.get(name, "") or default)


def issuer_url() -> str:
    return _setting("SESSHU_SHC_ISSUER_URL", DEFAULT_ISSUER).rstrip("/")


def key_path() -> Path:
    configured = _setting("SESSHU_SHC_KEY_PATH")
    if configured:
        return Path(configured)
    return Path(settings.VAR_DIR) / "keys" / "shc" / "issuer.jwk"


def published_dir() -> Path:
    configured = _setting("SESSHU_SHC_PUBLISHED_KEYS_DIR")
    return Path(configured) if configured else key_path().parent / "published"


def _may_make_keys() -> bool:
    # A production server never makes itself a new identity: its cards would not verify anywhere.
    return not str(getattr(settings, "SETTINGS_MODULE", "")).endswith(".production")


def public_jwk(key: jwk.JWK) -> dict:
    public = key.export_public(as_dict=True)
    return {
        "kty": "EC",
        "crv": public["crv"],
        "x": public["x"],
        "y": public["y"],
        "kid": key.thumbprint(),
        "use": "sig",
        "alg": "ES256",
    }


def _write_private(path: Path, text: str) -> None:
    """Write a new file, 0600, complete or not at all; never replace an existing one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.link(tmp, path)
    finally:
        os.unlink(tmp)


def publish(key: jwk.JWK) -> Path:
    """Keep the key's public part in the published directory (idempotent)."""
    directory = published_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{key.thumbprint()}.json"
    if not path.exists():
        tmp = path.with_name(f".{path.name}.partial")
        tmp.write_text(json.dumps(public_jwk(key), indent=1) + "\n", encoding="ascii")
        os.replace(tmp, path)
    return path


def new_key() -> jwk.JWK:
    return jwk.JWK.generate(kty="EC", crv="P-256")


def _read_key(path: Path) -> jwk.JWK:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        data = json.loads(path.read_text(encoding="ascii"))
        key = jwk.JWK(**data)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, TypeError) as exc:
        raise IssuerKeyError(
            f"発行者鍵 {path} を読めません。 (Cannot read the issuer key {path}: {type(exc).__name__}.)"
        ) from None
    if mode & 0o077:
        raise IssuerKeyError(
            f"発行者鍵 {path} は他者から読めます（chmod 600）。 "
            f"(The issuer key {path} is readable by others; chmod 600.)"
        )
    if not key.has_private or data.get("kty") != "EC" or data.get("crv") != "P-256":
        raise IssuerKeyError(
            f"発行者鍵 {path} は P-256 の秘密鍵ではありません。 "
            f"(The issuer key {path} is not a P-256 private key.)"
        )
    return key


def signing_key() -> jwk.JWK:
    """The key that signs new cards; made on first use in the demo and the tests."""
    path = key_path()
    with _lock:
        try:
            version = path.stat().st_mtime_ns
        except FileNotFoundError:
            if not _may_make_keys():
                raise IssuerKeyError(
                    f"発行者鍵 {path} がありません。 (No issuer key at {path}: make one with "
                    "`sesshu certificate keys generate` and set SESSHU_SHC_KEY_PATH.)"
                ) from None
            try:
                _write_private(path, new_key().export_private())
            except FileExistsError:  # another process made it just now
                pass
            version = path.stat().st_mtime_ns
        cached = _cache.get((str(path), version))
        if cached is None:
            cached = _read_key(path)
            _cache.clear()
            _cache[(str(path), version)] = cached
            publish(cached)
    return cached


def published_keys() -> list[dict]:
    """Every published public key, the signing key's first (the content of jwks.json)."""
    active = signing_key()
    keys = {active.thumbprint(): public_jwk(active)}
    directory = published_dir()
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="ascii"))
            key = jwk.JWK(**data)
        except (OSError, ValueError, TypeError):
            continue  # a stray file is not a key; the check command reports it
        if key.has_private:
            continue  # never publish a private key, whatever was put there
        keys.setdefault(key.thumbprint(), public_jwk(key))
    return list(keys.values())


def key_set() -> jwk.JWKSet:
    keys = jwk.JWKSet()
    for data in published_keys():
        keys.add(jwk.JWK(**data))
    return keys


def rotate() -> tuple[str, str]:
    """A new signing key; the old one's public part stays published and its private file is set aside.

    The old private file is renamed ``<name>.retired-<kid>`` (still 0600) for the operators to destroy
    or archive offline: it must sign nothing more. Returns (old kid, new kid).
    """
    old = signing_key()
    path = key_path()
    fresh = new_key()
    publish(fresh)
    retired = path.with_name(f"{path.name}.retired-{old.thumbprint()}")
    with _lock:
        os.replace(path, retired)
        _write_private(path, fresh.export_private())
        _cache.clear()
    return old.thumbprint(), fresh.thumbprint()


def generate(path: Path) -> str:
    """A new key file at ``path`` (refuses to overwrite); returns its kid."""
    key = new_key()
    _write_private(Path(path), key.export_private())
    return key.thumbprint()

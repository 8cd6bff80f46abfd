"""The vault's keys: master keys and the blind-index key, read from files or the environment, never the DB.

Envelope encryption (see docs/keys.md):

- a **master key** (KEK, 32 random bytes, base64) lives outside the database: a 0600 file named in
  ``SESSHU_MASTER_KEYS`` ({id: path}) or, when the path is empty, the environment variable
  ``SESSHU_MASTER_KEY_<ID>`` (the id upper-cased, ``-`` as ``_``). ``SESSHU_ACTIVE_MASTER_KEY`` names the
  one that wraps new data keys; the others stay configured only until their data keys are re-wrapped.
- a **data key** (DEK, AES-256) encrypts the numbers. It is stored in the database only wrapped by a
  master key (AES-256-GCM, its id and its master's id as associated data, so a wrapped key cannot be
  passed off as another one). This module wraps and unwraps; ``vault`` keeps the ``DataKey`` rows.
- the **blind-index key** (``SESSHU_BLIND_INDEX_KEY_FILE``, or ``SESSHU_BLIND_INDEX_KEY``) keys the
  HMAC that lets a number be found without decrypting anything.

This module is imported by the settings (``ensure_demo_keys``), so it must not touch models at import.
Key material is held only inside ``AESGCM`` objects and ``_Secret`` holders whose repr shows nothing, so
a traceback or a debugger's locals never print a key.
"""

import base64
import binascii
import os
import re
import secrets
import stat
import tempfile
from pathlib import Path
from typing import NamedTuple, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

KEY_BYTES = 32  # AES-256 and HMAC-SHA256 keys alike
NONCE_BYTES = 12  # the 96-bit nonce AES-GCM is specified for
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
DEMO_MASTER_KEY_ID = "demo-1"

_SETTINGS = {"SESSHU_MASTER_KEYS", "SESSHU_ACTIVE_MASTER_KEY", "SESSHU_BLIND_INDEX_KEY_FILE"}


class VaultError(Exception):
    """The vault cannot do what was asked. Messages name keys and internal ids, never a number."""


class KeyConfigError(VaultError, ImproperlyConfigured):
    """A key is not configured, cannot be read, or is not 32 bytes of base64."""


class _Secret:
    """Key bytes that do not show themselves in a repr, a log line or a traceback's locals."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes):
        self._value = value

    def reveal(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


class WrappedKey(Protocol):
    """What unwrapping needs of a ``DataKey`` row (kept structural so this module needs no model)."""

    key_id: str
    master_key_id: str
    wrapped_key: bytes | memoryview | None
    retired_at: object


# Reading keys -------------------------------------------------------------------------------------------


def decode_key(text: str, where: str) -> bytes:
    """32 bytes from their base64 text, or a KeyConfigError naming ``where`` (never the text)."""
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigError(
            f"{where} は base64 ではありません。 ({where} is not base64: a key is 32 random bytes in base64, "
            "e.g. `openssl rand -base64 32`.)"
        ) from None
    if len(raw) != KEY_BYTES:
        raise KeyConfigError(
            f"{where} の鍵は{len(raw)}バイトです（32バイトが必要）。 "
            f"({where} holds {len(raw)} bytes; a key must be exactly {KEY_BYTES} bytes.)"
        )
    return raw


def read_key_file(path: str | os.PathLike) -> bytes:
    path = Path(path)
    try:
        info = path.stat()
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise KeyConfigError(f"鍵ファイル {path} がありません。 (Key file {path} does not exist.)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyConfigError(
            f"鍵ファイル {path} を読めません。 (Key file {path} cannot be read: {type(exc).__name__}.)"
        ) from None
    # Like ssh with its private keys: a key others can read is a key already given away. Group read is
    # allowed so a key can be owned by root and read by the service's group (chmod 640).
    if stat.S_IMODE(info.st_mode) & 0o027:
        raise KeyConfigError(
            f"鍵ファイル {path} は他者から読み書きできます（chmod 600）。 "
            f"(Key file {path} is accessible to others (mode {stat.S_IMODE(info.st_mode):o}); chmod 600.)"
        )
    return decode_key(text, f"key file {path}")


def env_name(key_id: str) -> str:
    return "SESSHU_MASTER_KEY_" + key_id.upper().replace("-", "_")


_master_ciphers: dict[str, AESGCM] = {}
_unwrapped: dict[tuple[str, str, bytes], AESGCM] = {}
_blind_key: list[_Secret] = []


def clear_caches(**_kwargs) -> None:
    """Forget loaded keys (after the settings or a key file changed; tests call it too)."""
    _master_ciphers.clear()
    _unwrapped.clear()
    _blind_key.clear()


def _on_setting_changed(setting: str, **kwargs) -> None:
    if setting in _SETTINGS:
        clear_caches()


setting_changed.connect(_on_setting_changed, dispatch_uid="sesshu.addressee.keys")


def parse_master_keys(text: str) -> dict[str, str]:
    """``SESSHU_MASTER_KEYS`` from the environment: ``id:/path/to/file,id2:/path2``; an id without a path
    is read from ``SESSHU_MASTER_KEY_<ID>``. For settings/production.py."""
    parsed: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key_id, _, path = item.partition(":")
        key_id = key_id.strip()
        if not KEY_ID_PATTERN.match(key_id) or key_id in parsed:
            raise KeyConfigError(
                f"SESSHU_MASTER_KEYS: 鍵ID {key_id!r} が不正か重複しています。 (SESSHU_MASTER_KEYS: key id "
                f"{key_id!r} is malformed or repeated; use id:/path,id2:/path with letters, digits, - and _.)"
            )
        parsed[key_id] = path.strip()
    return parsed


def configured_master_ids() -> list[str]:
    return list(getattr(settings, "SESSHU_MASTER_KEYS", None) or {})


def active_master_id() -> str:
    key_id = getattr(settings, "SESSHU_ACTIVE_MASTER_KEY", "") or ""
    if not key_id:
        raise KeyConfigError(
            "SESSHU_ACTIVE_MASTER_KEY が設定されていません。 (SESSHU_ACTIVE_MASTER_KEY is not set: it names "
            "the master key that wraps new data keys. See docs/keys.md.)"
        )
    if key_id not in configured_master_ids():
        raise KeyConfigError(
            f"SESSHU_ACTIVE_MASTER_KEY={key_id} は SESSHU_MASTER_KEYS にありません。 "
            f"(The active master key {key_id} is not in SESSHU_MASTER_KEYS.)"
        )
    return key_id


def _load_master(key_id: str) -> bytes:
    master_keys = getattr(settings, "SESSHU_MASTER_KEYS", None) or {}
    if key_id not in master_keys:
        raise KeyConfigError(
            f"マスター鍵 {key_id} が設定されていません。 (Master key {key_id} is not configured in "
            "SESSHU_MASTER_KEYS: data keys wrapped by it cannot be opened.)"
        )
    if not KEY_ID_PATTERN.match(key_id):
        raise KeyConfigError(
            f"マスター鍵ID {key_id!r} は使えません。 (Master key id {key_id!r}: letters, digits, - and _, "
            "at most 32.)"
        )
    source = master_keys[key_id]
    if source:
        return read_key_file(source)
    name = env_name(key_id)
    text = os.environ.get(name, "")
    if not text:
        raise KeyConfigError(
            f"マスター鍵 {key_id}: ファイルも環境変数 {name} もありません。 (Master key {key_id} has no file "
            f"in SESSHU_MASTER_KEYS and {name} is not set.)"
        )
    return decode_key(text, f"environment variable {name}")


def master_cipher(key_id: str) -> AESGCM:
    cipher = _master_ciphers.get(key_id)
    if cipher is None:
        cipher = _master_ciphers[key_id] = AESGCM(_load_master(key_id))
    return cipher


def blind_index_key() -> _Secret:
    if not _blind_key:
        path = getattr(settings, "SESSHU_BLIND_INDEX_KEY_FILE", "") or ""
        if path:
            key = read_key_file(path)
        elif os.environ.get("SESSHU_BLIND_INDEX_KEY"):
            key = decode_key(
                os.environ["SESSHU_BLIND_INDEX_KEY"], "environment variable SESSHU_BLIND_INDEX_KEY"
            )
        else:
            raise KeyConfigError(
                "ブラインドインデックス鍵が設定されていません。 (No blind-index key: set "
                "SESSHU_BLIND_INDEX_KEY_FILE. See docs/keys.md.)"
            )
        _blind_key.append(_Secret(key))
    return _blind_key[0]


# Wrapping data keys -------------------------------------------------------------------------------------


def _wrap_aad(key_id: str, master_id: str) -> bytes:
    return f"sesshu:data-key|key:{key_id}|master:{master_id}".encode()


def new_data_key_material() -> _Secret:
    return _Secret(AESGCM.generate_key(bit_length=256))


def wrap(dek: _Secret, key_id: str, master_id: str) -> bytes:
    """nonce || AES-256-GCM(master, dek), bound to the data key's id and its master's id."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + master_cipher(master_id).encrypt(nonce, dek.reveal(), _wrap_aad(key_id, master_id))


def unwrap(data_key: WrappedKey) -> _Secret:
    if data_key.retired_at is not None or not data_key.wrapped_key:
        raise VaultError(
            f"データ鍵 {data_key.key_id} は廃棄済みです。 (Data key {data_key.key_id} is retired: its "
            "wrapped key was wiped, so nothing encrypted with it can be decrypted any more.)"
        )
    blob = bytes(data_key.wrapped_key)
    cipher = master_cipher(data_key.master_key_id)
    try:
        dek = cipher.decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], _wrap_aad(data_key.key_id, data_key.master_key_id)
        )
    except (InvalidTag, ValueError) as exc:
        raise VaultError(
            f"マスター鍵 {data_key.master_key_id} でデータ鍵 {data_key.key_id} を開けません。 (Master key "
            f"{data_key.master_key_id} does not unwrap data key {data_key.key_id}: a wrong key file for "
            "this id, or a changed wrapped key.)"
        ) from exc
    return _Secret(dek)


def data_key_cipher(data_key: WrappedKey) -> AESGCM:
    """The AES-GCM cipher of a data key, unwrapped once per process (rotation decrypts 1000s per key)."""
    if data_key.retired_at is not None or not data_key.wrapped_key:
        unwrap(data_key)  # raises the "retired" error
    # Keyed by the wrapped bytes too: a re-wrapped or re-created key id never hits a stale entry.
    cache_key = (data_key.key_id, data_key.master_key_id, bytes(data_key.wrapped_key))
    cipher = _unwrapped.get(cache_key)
    if cipher is None:
        cipher = _unwrapped[cache_key] = AESGCM(unwrap(data_key).reveal())
    return cipher


def forget_data_key(key_id: str) -> None:
    for cache_key in [k for k in _unwrapped if k[0] == key_id]:
        _unwrapped.pop(cache_key, None)


# Creating key files -------------------------------------------------------------------------------------


def generate_key_file(path: str | os.PathLike) -> Path:
    """A new key file (32 random bytes, base64, mode 0600). Refuses to overwrite: a key is never replaced."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii") + "\n"
    # Written to a private temporary file and then linked into place, so a concurrent reader (two test
    # runs starting at once) sees either no file or a whole key, and an existing key is never replaced.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return path


class DemoKeys(NamedTuple):
    master_keys: dict[str, str]
    active_master_key: str
    blind_index_key_file: str


def ensure_demo_keys(var_dir: str | os.PathLike) -> DemoKeys:
    """Create the demo's master key and blind-index key under ``var_dir/keys`` when missing.

    For the demo and the test suite only: production keys are made by the city's staff and kept off the
    application's disk image (docs/keys.md). Returns the three settings, for the settings module.
    """
    keys_dir = Path(var_dir) / "keys"
    keys_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    master = keys_dir / f"master-{DEMO_MASTER_KEY_ID}.key"
    blind = keys_dir / "blind-index.key"
    for path in (master, blind):
        try:
            generate_key_file(path)
        except FileExistsError:
            pass
    return DemoKeys({DEMO_MASTER_KEY_ID: str(master)}, DEMO_MASTER_KEY_ID, str(blind))


# Startup check ------------------------------------------------------------------------------------------


@checks.register(checks.Tags.security)
def check_vault_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Fail fast: every configured key must load before the server or a command starts."""
    if not configured_master_ids() and not getattr(settings, "SESSHU_BLIND_INDEX_KEY_FILE", ""):
        return [
            checks.Warning(
                "The My Number vault has no keys configured: numbers cannot be stored or found.",
                hint="Set SESSHU_MASTER_KEYS, SESSHU_ACTIVE_MASTER_KEY and SESSHU_BLIND_INDEX_KEY_FILE "
                "(docs/keys.md).",
                id="addressee.W001",
            )
        ]
    errors: list[checks.CheckMessage] = []
    for key_id in configured_master_ids():
        try:
            master_cipher(key_id)
        except KeyConfigError as exc:
            errors.append(checks.Error(str(exc), id="addressee.E001"))
    try:
        active_master_id()
    except KeyConfigError as exc:
        errors.append(checks.Error(str(exc), id="addressee.E002"))
    try:
        blind_index_key()
    except KeyConfigError as exc:
        errors.append(checks.Error(str(exc), id="addressee.E003"))
    return errors

"""The My Number vault: envelope encryption, blind-index look-up and data-key rotation.

Each number is encrypted with AES-256-GCM under the active data key, with a fresh 96-bit random nonce
and associated data naming the person and the key (``_aad``): a ciphertext copied onto another person,
or relabelled with another key, fails its tag check instead of decrypting. The data keys are stored
wrapped by master keys kept outside the database (sesshu.addressee.keys).

``decrypt_number`` is the only function that decrypts. It is internal to sesshu.addressee: other apps
ask an addressee service, which checks the right (use_mynumber) and writes the audit event. Nothing in
this module logs or audits on its own except key management; no message it raises contains a number.
"""

import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from sesshu.audit.models import Action
from sesshu.audit.services import record as audit
from sesshu.core.numbers import validate_mynumber
from sesshu.core.problems import Problem

from . import keys
from .keys import KeyConfigError, VaultError
from .models import Person
from .models_vault import DataKey, IdentityCheck, MyNumberRecord

__all__ = [
    "KeyConfigError",
    "VaultError",
    "active_data_key",
    "blind_index",
    "create_data_key",
    "decrypt_number",
    "find_person_by_number",
    "key_status",
    "open_pending",
    "reencrypt_all",
    "reindex_blind_index",
    "retire_unused_keys",
    "rewrap_data_keys",
    "rotate_data_key",
    "seal_pending",
    "store_number",
    "store_numbers",
]

PURPOSE = "個人番号の鍵管理 (My Number key management)"
DUPLICATE = Problem(
    "mynumber_duplicate",
    "この個人番号は既に別の宛名に登録されています。",
    "This My Number is already registered for another person.",
)


def _aad(person_id: int, key_id: str) -> bytes:
    return f"sesshu:mynumber|person:{person_id}|key:{key_id}".encode()


def blind_index(digits: str) -> str:
    """HMAC-SHA256 (blind-index key) of the normalized 12 digits, in hex. Raises Problem if not a number.

    A keyed HMAC, not a plain hash: there are only 10^11 valid numbers, so anyone holding the database
    could hash them all in minutes and read a plain hash back to the number.
    """
    return _blind_index_of(validate_mynumber(digits))


def _blind_index_of(number: str) -> str:
    mac = HMAC(keys.blind_index_key().reveal(), hashes.SHA256())
    mac.update(number.encode("ascii"))
    return mac.finalize().hex()


def _encrypt(person_id: int, number: str, data_key: DataKey) -> tuple[bytes, bytes]:
    nonce = os.urandom(keys.NONCE_BYTES)
    ciphertext = keys.data_key_cipher(data_key).encrypt(
        nonce, number.encode("ascii"), _aad(person_id, data_key.key_id)
    )
    return nonce, ciphertext


def seal_pending(person_id: int, digits: str) -> tuple[DataKey, bytes, bytes]:
    """Encrypt a number that waits for confirmation (a registration request): (data key, nonce,
    ciphertext), bound to the person like a stored number. The number is validated first."""
    data_key = active_data_key()
    nonce, ciphertext = _encrypt(person_id, validate_mynumber(digits), data_key)
    return data_key, nonce, ciphertext


def open_pending(person_id: int, data_key: DataKey, nonce, ciphertext) -> str:
    """The number of a registration request, to be stored once a second clerk confirms it."""
    return _open(person_id, data_key, nonce, ciphertext)


def decrypt_number(record: MyNumberRecord) -> str:
    """The 12 digits of ``record``. The only way out of the vault; callers audit the access themselves."""
    return _open(record.person_id, record.data_key, record.nonce, record.ciphertext)


def _open(person_id: int, data_key: DataKey, nonce, ciphertext) -> str:
    """The one decryption in sesshu, behind ``decrypt_number`` (and rotation, which skips the model)."""
    cipher = keys.data_key_cipher(data_key)
    try:
        plain = cipher.decrypt(bytes(nonce), bytes(ciphertext), _aad(person_id, data_key.key_id))
    except (InvalidTag, ValueError) as exc:
        raise VaultError(
            f"person #{person_id} の個人番号を復号できません。 (The My Number of person #{person_id} "
            f"does not decrypt with data key {data_key.key_id}: its ciphertext or nonce was changed, or "
            "it was copied from another person's record.)"
        ) from exc
    number = plain.decode("ascii", errors="replace")
    if len(number) != 12 or not number.isdigit():
        raise VaultError(f"The My Number of person #{person_id} decrypts to something else.")
    return number


def find_person_by_number(digits: str) -> Person | None:
    """The person whose number this is, found through the blind index (nothing is decrypted)."""
    return Person.objects.filter(mynumber__blind_index=blind_index(digits)).first()


# Data keys ----------------------------------------------------------------------------------------------


def _new_key_id() -> str:
    today = timezone.localdate().isoformat()
    while True:
        key_id = f"dk-{today}-{secrets.token_hex(2)}"
        if not DataKey.objects.filter(key_id=key_id).exists():
            return key_id


def create_data_key(*, activate: bool) -> DataKey:
    """A new random data key, wrapped by the active master key; with ``activate``, it replaces the active one.

    The DEK exists in the clear only in this process's memory; the database gets it wrapped.
    """
    master_id = keys.active_master_id()
    key_id = _new_key_id()
    wrapped = keys.wrap(keys.new_data_key_material(), key_id, master_id)
    with transaction.atomic():
        if activate:
            # Lock the current active key first so two rotations cannot both switch (the second waits,
            # then fails the one-active constraint cleanly instead of leaving two active keys).
            list(DataKey.objects.select_for_update().filter(active=True))
            DataKey.objects.filter(active=True).update(active=False)
        return DataKey.objects.create(
            key_id=key_id, wrapped_key=wrapped, master_key_id=master_id, active=activate
        )


def active_data_key() -> DataKey:
    """The data key new numbers are encrypted with; the first one is made on first use."""
    key = DataKey.objects.filter(active=True).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            key = create_data_key(activate=True)
            detail = {"operation": "first_data_key", "key_id": key.key_id, "master_key_id": key.master_key_id}
            audit(Action.SYSTEM, purpose=PURPOSE, object_type="vault", detail=detail)
            return key
    except IntegrityError:  # another process made the first key at the same moment
        return DataKey.objects.get(active=True)


# Storing ------------------------------------------------------------------------------------------------


def store_number(
    person: Person,
    digits: str,
    *,
    data_key: DataKey | None = None,
    registered_by=None,
    identity_check: str = IdentityCheck.JUKI_NET,
    identity_checked_by=None,
) -> MyNumberRecord:
    """Encrypt and keep (or replace) ``person``'s number. Raises Problem for an invalid or duplicate number.

    For the four-eyes registration service: it checks the right, names the staff and the identity check
    and writes the audit event. A number checked at the counter must name who checked it.
    """
    number = validate_mynumber(digits)
    if person.pk is None:
        raise ValueError("store_number needs a saved person.")
    if identity_check != IdentityCheck.JUKI_NET and identity_checked_by is None:
        raise ValueError("A number confirmed at the counter needs identity_checked_by.")
    index = _blind_index_of(number)
    data_key = data_key or active_data_key()
    nonce, ciphertext = _encrypt(person.pk, number, data_key)
    values = {
        "ciphertext": ciphertext,
        "nonce": nonce,
        "data_key": data_key,
        "blind_index": index,
        "registered_at": timezone.now(),
        "registered_by": registered_by,
        "identity_check": identity_check,
        "identity_checked_by": identity_checked_by,
    }
    try:
        with transaction.atomic():
            if MyNumberRecord.objects.filter(blind_index=index).exclude(person=person).exists():
                raise DUPLICATE
            record, _ = MyNumberRecord.objects.update_or_create(person=person, defaults=values)
            _still_live(data_key)
    except IntegrityError:  # the same number stored for another person at the same moment
        raise DUPLICATE from None
    return record


def store_numbers(items: Iterable[tuple[int, str]], *, batch_size: int = 1000) -> int:
    """Insert numbers received from the system (住基ネット) in batches: (person id, digits) pairs.

    Insert only (a person who already has a number, or a number already stored, fails the batch with
    IntegrityError). Returns the number of records written.
    """
    data_key = active_data_key()
    written = 0
    for batch in _batches(items, batch_size):
        records = []
        for person_id, digits in batch:
            number = validate_mynumber(digits)
            nonce, ciphertext = _encrypt(person_id, number, data_key)
            records.append(
                MyNumberRecord(
                    person_id=person_id,
                    ciphertext=ciphertext,
                    nonce=nonce,
                    data_key=data_key,
                    blind_index=_blind_index_of(number),
                    identity_check=IdentityCheck.JUKI_NET,
                )
            )
        with transaction.atomic():
            MyNumberRecord.objects.bulk_create(records)
            _still_live(data_key)
        written += len(records)
    return written


def _still_live(data_key: DataKey) -> None:
    """Refuse to commit numbers under a key retired since it was read (a rotation and a retire-unused
    completed in between). Checked after the write: on PostgreSQL the new rows' foreign keys then hold a
    lock on the key's row that retire-unused waits for, so the key cannot be retired after this check."""
    if not DataKey.objects.filter(pk=data_key.pk, retired_at__isnull=True).exists():
        raise VaultError(
            f"データ鍵 {data_key.key_id} は廃棄されました。もう一度実行してください。 (Data key "
            f"{data_key.key_id} was retired meanwhile; nothing was stored. Try again.)"
        )


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# Key management -----------------------------------------------------------------------------------------

_LOCK_ID = 0x5E55_4055_7A17  # PostgreSQL advisory lock: one key operation at a time


@contextmanager
def key_operation_lock():
    """Run one key operation at a time across processes.

    A rotation writes to its new key over many transactions; a concurrent rotation could deactivate that
    key and a concurrent retire-unused could then wipe it while records are being written to it. On
    PostgreSQL a session advisory lock rules that out; SQLite serializes every write transaction anyway.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_ID])
        if not cursor.fetchone()[0]:
            raise VaultError(
                "別の鍵操作が実行中です。 (Another key operation (rotate, rewrap, retire) is running; "
                "try again when it has finished.)"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_ID])


def _write_reencrypted(batch: list[tuple[int, bytes, bytes]], target: DataKey) -> None:
    """Write a batch with plain SQL: bulk_update's CASE expressions cost ~10x more Python time than the
    encryption itself, and rotation speed is what keeps a rotation short.

    PostgreSQL gets one UPDATE ... FROM (VALUES ...) per batch (one round trip); SQLite, in process, one
    UPDATE per row through executemany.
    """
    meta = MyNumberRecord._meta
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    nonce, ciphertext, key = (quote(meta.get_field(f).column) for f in ("nonce", "ciphertext", "data_key"))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            values = ", ".join(["(%s::bigint, %s::bytea, %s::bytea)"] * len(batch))
            cursor.execute(
                f"UPDATE {table} SET {nonce} = v.nonce, {ciphertext} = v.ciphertext, {key} = %s "  # noqa: S608
                f"FROM (VALUES {values}) AS v(id, nonce, ciphertext) WHERE {table}.{pk} = v.id",
                [target.key_id, *(value for row in batch for value in row)],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET {nonce} = %s, {ciphertext} = %s, {key} = %s WHERE {pk} = %s",  # noqa: S608
                [(n, c, target.key_id, p) for p, n, c in batch],
            )


_SEALED = ("pk", "person_id", "nonce", "ciphertext", "data_key_id")  # what _open needs, as plain values


@dataclass
class RotationResult:
    key_id: str
    reencrypted: int
    remaining: int


def reencrypt_all(
    target: DataKey, *, batch_size: int = 1000, progress: Callable[[int], object] | None = None
) -> int:
    """Re-encrypt every record not yet under ``target``, ``batch_size`` records per transaction.

    Each batch is short, so the service keeps reading and writing during a rotation: a record names its
    own key, so it reads the same before and after its batch. On PostgreSQL a batch locks its rows with
    SKIP LOCKED, leaving rows a clerk is changing for a later pass instead of waiting on them.
    """
    skip_locked = connection.features.has_select_for_update_skip_locked
    done = 0
    for _pass in range(10):
        last_pk = 0
        while True:
            with transaction.atomic():
                rows = MyNumberRecord.objects.filter(pk__gt=last_pk).exclude(data_key=target).order_by("pk")
                if skip_locked:
                    rows = rows.select_for_update(skip_locked=True)
                # Plain tuples and the few data keys looked up once: building model instances would
                # cost more than the decryption and encryption together.
                fetched = list(rows.values_list(*_SEALED)[:batch_size])
                if not fetched:
                    break
                data_keys = DataKey.objects.in_bulk({row[4] for row in fetched}, field_name="key_id")
                batch = []
                for pk, person_id, nonce, ciphertext, key_id in fetched:
                    number = _open(person_id, data_keys[key_id], nonce, ciphertext)
                    batch.append((pk, *_encrypt(person_id, number, target)))
                _write_reencrypted(batch, target)
            last_pk = batch[-1][0]
            done += len(batch)
            if progress is not None:
                progress(len(batch))
        if not MyNumberRecord.objects.exclude(data_key=target).exists():
            break
        time.sleep(0.5)  # rows skipped as locked: their clerks' transactions are short
    return done


def rotate_data_key(
    *, batch_size: int = 1000, progress: Callable[[int], object] | None = None
) -> RotationResult:
    """A new active data key, and every record re-encrypted to it. Old keys stay until retire-unused."""
    with key_operation_lock():
        target = create_data_key(activate=True)
        done = reencrypt_all(target, batch_size=batch_size, progress=progress)
        remaining = MyNumberRecord.objects.exclude(data_key=target).count()
    return RotationResult(target.key_id, done, remaining)


def retire_unused_keys() -> list[str]:
    """Wipe the wrapped key of every inactive data key no record uses. What it encrypted is then gone."""
    retired = []
    with key_operation_lock(), transaction.atomic():
        # Lock first, count after: on PostgreSQL a record written to a key holds a KEY SHARE lock on the
        # key's row until its transaction commits, so the FOR UPDATE here waits for it, and the count,
        # a new statement, then sees the record.
        candidates = list(
            DataKey.objects.select_for_update().filter(active=False, retired_at__isnull=True).order_by("pk")
        )
        for data_key in candidates:
            if MyNumberRecord.objects.filter(data_key=data_key).exists():
                continue
            data_key.wrapped_key = None
            data_key.retired_at = timezone.now()
            data_key.save(update_fields=["wrapped_key", "retired_at"])
            keys.forget_data_key(data_key.key_id)
            retired.append(data_key.key_id)
    return retired


def rewrap_data_keys(to_master: str) -> list[str]:
    """Re-wrap every live data key under master key ``to_master`` (master-key rotation; no data touched)."""
    keys.master_cipher(to_master)  # fails now, clearly, if the target key is not configured
    rewrapped = []
    with key_operation_lock(), transaction.atomic():
        for data_key in DataKey.objects.select_for_update().filter(retired_at__isnull=True).order_by("pk"):
            if data_key.master_key_id == to_master:
                continue
            dek = keys.unwrap(data_key)
            data_key.wrapped_key = keys.wrap(dek, data_key.key_id, to_master)
            data_key.master_key_id = to_master
            keys.unwrap(data_key)  # prove the new wrapping opens before committing it
            data_key.save(update_fields=["wrapped_key", "master_key_id"])
            rewrapped.append(data_key.key_id)
    return rewrapped


def reindex_blind_index(*, batch_size: int = 1000, progress: Callable[[int], object] | None = None) -> int:
    """Recompute every record's blind index with the configured blind-index key; returns how many changed.

    For a new blind-index key (the old one leaked or was lost): configure it, then run this. Until a
    record's batch is done, looking that record up by number finds nothing; decryption is unaffected.
    """
    meta = MyNumberRecord._meta
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {quote(meta.get_field('blind_index').column)} = %s "  # noqa: S608
        f"WHERE {quote(meta.pk.column)} = %s"
    )
    changed, last_pk = 0, 0
    with key_operation_lock():
        while True:
            with transaction.atomic():
                rows = MyNumberRecord.objects.filter(pk__gt=last_pk).order_by("pk")
                fetched = list(rows.values_list(*_SEALED, "blind_index")[:batch_size])
                if not fetched:
                    break
                data_keys = DataKey.objects.in_bulk({row[4] for row in fetched}, field_name="key_id")
                updates = []
                for pk, person_id, nonce, ciphertext, key_id, old in fetched:
                    index = _blind_index_of(_open(person_id, data_keys[key_id], nonce, ciphertext))
                    if index != old:
                        updates.append((index, pk))
                if updates:
                    with connection.cursor() as cursor:
                        cursor.executemany(sql, updates)
            last_pk = fetched[-1][0]
            changed += len(updates)
            if progress is not None:
                progress(len(fetched))
    return changed


@dataclass
class KeyStatus:
    key_id: str
    master_key_id: str
    created_at: object
    active: bool
    retired_at: object
    records: int


def key_status() -> list[KeyStatus]:
    """Every data key with the number of records under it (counts only: nothing is decrypted)."""
    rows = DataKey.objects.annotate(n=Count("records")).order_by("created_at", "pk")
    return [KeyStatus(k.key_id, k.master_key_id, k.created_at, k.active, k.retired_at, k.n) for k in rows]

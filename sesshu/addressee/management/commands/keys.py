"""The My Number vault's keys (docs/keys.md):

    sesshu keys status                         data keys, their master keys and record counts
    sesshu keys rotate [--batch-size N]        new data key; every number re-encrypted to it, online
    sesshu keys retire-unused                  wipe data keys no record uses any more
    sesshu keys rewrap --to MASTER_ID          re-wrap every data key under another master key
    sesshu keys reindex                        recompute blind indexes (after a blind-index key change)
    sesshu keys generate FILE                  a new key file (32 random bytes, base64, 0600)

Every operation but ``generate`` (which needs no database, so a key can be made on an offline machine)
writes an audit event: action system, object type "vault", counts and key ids only. Nothing here ever
prints or logs a number or key material.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from sesshu.addressee import keys, vault
from sesshu.addressee.models_vault import MyNumberRecord
from sesshu.audit.context import acting_as
from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record


class Command(BaseCommand):
    help = "Manage the My Number vault's keys: status, rotate, retire-unused, rewrap, reindex, generate."
    # The startup check refuses to run with a broken key configuration; `generate` must work before
    # there is any, and the other operations check exactly the keys they use.
    requires_system_checks = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="operation", required=True)
        status = sub.add_parser("status", help="data keys and how many numbers each encrypts")
        rotate = sub.add_parser("rotate", help="new data key; re-encrypt every number to it")
        rotate.add_argument("--batch-size", type=int, default=1000, help="records per transaction (1000)")
        rotate.add_argument("--no-progress", action="store_true", help="no progress bar")
        retire = sub.add_parser("retire-unused", help="destroy data keys that no record uses")
        rewrap = sub.add_parser("rewrap", help="re-wrap every data key under another master key")
        rewrap.add_argument("--to", required=True, metavar="MASTER_ID", help="a master key id in settings")
        reindex = sub.add_parser("reindex", help="recompute blind indexes after a blind-index key change")
        reindex.add_argument("--no-progress", action="store_true", help="no progress bar")
        generate = sub.add_parser("generate", help="write a new random key file (never overwrites)")
        generate.add_argument("file", help="where to write it, e.g. /etc/sesshu/keys/master-2027.key")
        for command in (status, rotate, retire, rewrap, reindex):
            command.add_argument("--operator", default="", help="who runs this (for the audit log)")

    def handle(self, *args, operation: str, **options):
        if operation == "generate":
            self._generate(options["file"])
            return
        route = f"cli:keys {operation}"
        with acting_as(username=options["operator"] or "keys-cli", route=route):
            try:
                detail = getattr(self, "_" + operation.replace("-", "_"))(options)
            except vault.VaultError as exc:
                record(Action.SYSTEM, purpose=vault.PURPOSE, object_type="vault", outcome=Outcome.FAILED,
                       detail={"operation": operation, "error": type(exc).__name__})  # fmt: skip
                raise CommandError(str(exc)) from None
            record(Action.SYSTEM, purpose=vault.PURPOSE, object_type="vault", detail=detail)

    def _status(self, options) -> dict:
        self.stdout.write("master keys / マスター鍵:")
        active = getattr(settings, "SESSHU_ACTIVE_MASTER_KEY", "")
        for master_id in keys.configured_master_ids():
            try:
                keys.master_cipher(master_id)
                state = "ok"
            except keys.KeyConfigError as exc:
                state = f"ERROR {exc}"
            self.stdout.write(f"  {master_id}{' (active)' if master_id == active else ''}: {state}")
        try:
            keys.blind_index_key()
            self.stdout.write("blind-index key / ブラインドインデックス鍵: ok")
        except keys.KeyConfigError as exc:
            self.stdout.write(f"blind-index key / ブラインドインデックス鍵: ERROR {exc}")
        rows = vault.key_status()
        self.stdout.write(f"{'data key':<22}{'master':<14}{'created':<18}{'state':<10}{'records':>10}")
        for row in rows:
            state = "active" if row.active else "retired" if row.retired_at else "inactive"
            created = timezone.localtime(row.created_at).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(
                f"{row.key_id:<22}{row.master_key_id:<14}{created:<18}{state:<10}{row.records:>10}"
            )
        total = MyNumberRecord.objects.count()
        self.stdout.write(f"records / 件数: {total}")
        return {"operation": "status", "records": total, "data_keys": {r.key_id: r.records for r in rows}}

    def _rotate(self, options) -> dict:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size は1以上にしてください。 (--batch-size must be at least 1.)")
        before = {row.key_id: row.records for row in vault.key_status() if row.records}
        total = MyNumberRecord.objects.count()
        with tqdm(total=total, unit="件", disable=options["no_progress"], file=self.stderr) as bar:
            result = vault.rotate_data_key(batch_size=options["batch_size"], progress=bar.update)
        detail = {
            "operation": "rotate",
            "new_key_id": result.key_id,
            "reencrypted": result.reencrypted,
            "remaining": result.remaining,
            "records_by_key_before": before,
        }
        if result.remaining:
            record(Action.SYSTEM, purpose=vault.PURPOSE, object_type="vault", outcome=Outcome.FAILED,
                   detail=detail)  # fmt: skip
            raise CommandError(
                f"{result.remaining} 件が再暗号化されていません（使用中）。もう一度実行してください。 "
                f"({result.remaining} records were locked and not re-encrypted; run rotate again.)"
            )
        self.stdout.write(
            f"新しいデータ鍵 {result.key_id} に {result.reencrypted} 件を再暗号化しました。 "
            f"(Re-encrypted {result.reencrypted} numbers to the new data key {result.key_id}. Run "
            "`sesshu keys retire-unused` to destroy the old keys.)"
        )
        return detail

    def _retire_unused(self, options) -> dict:
        retired = vault.retire_unused_keys()
        self.stdout.write(
            f"廃棄したデータ鍵: {len(retired)} 件 {' '.join(retired)} (retired {len(retired)} data keys)"
        )
        return {"operation": "retire-unused", "retired": retired, "count": len(retired)}

    def _rewrap(self, options) -> dict:
        target = options["to"]
        if target not in keys.configured_master_ids():
            raise CommandError(
                f"マスター鍵 {target} は SESSHU_MASTER_KEYS にありません。 "
                f"(Master key {target} is not configured in SESSHU_MASTER_KEYS.)"
            )
        rewrapped = vault.rewrap_data_keys(target)
        self.stdout.write(
            f"{len(rewrapped)} 個のデータ鍵をマスター鍵 {target} で包み直しました。 "
            f"(Re-wrapped {len(rewrapped)} data keys under master key {target}.)"
        )
        if target != getattr(settings, "SESSHU_ACTIVE_MASTER_KEY", ""):
            self.stderr.write(
                f"注意: 新しいデータ鍵は引き続き SESSHU_ACTIVE_MASTER_KEY で包まれます。 "
                f"(Note: new data keys are still wrapped by SESSHU_ACTIVE_MASTER_KEY: set it to {target}.)"
            )
        return {"operation": "rewrap", "to": target, "rewrapped": rewrapped, "count": len(rewrapped)}

    def _reindex(self, options) -> dict:
        total = MyNumberRecord.objects.count()
        with tqdm(total=total, unit="件", disable=options["no_progress"], file=self.stderr) as bar:
            changed = vault.reindex_blind_index(progress=bar.update)
        self.stdout.write(
            f"{total} 件中 {changed} 件のブラインドインデックスを更新しました。 "
            f"(Recomputed the blind index of {total} records; {changed} changed.)"
        )
        return {"operation": "reindex", "records": total, "changed": changed}

    def _generate(self, path: str) -> None:
        try:
            keys.generate_key_file(path)
        except FileExistsError:
            raise CommandError(
                f"{path} は既にあります。鍵は上書きしません。 "
                f"({path} exists; a key file is never overwritten.)"
            ) from None
        except OSError as exc:
            raise CommandError(f"{path} を作れません: {exc.strerror} (cannot create {path})") from None
        self.stdout.write(f"{path} (0600)")

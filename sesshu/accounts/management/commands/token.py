"""API tokens for systems: `sesshu token create --user NAME --name PURPOSE [--days N]`, `token revoke PREFIX`.

The key is printed once and only its hash is kept. Creating and revoking are audit events.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sesshu.accounts.models import ApiToken, Staff
from sesshu.audit.context import acting_as
from sesshu.audit.models import Action
from sesshu.audit.services import record

PURPOSE = "APIトークン管理 (API token administration)"


class Command(BaseCommand):
    help = "Create or revoke API tokens for systems calling /api/v1/."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="operation", required=True)
        create = sub.add_parser("create")
        create.add_argument("--user", required=True, help="the staff account the system acts as")
        create.add_argument("--name", required=True, help="what the token is for")
        create.add_argument("--days", type=int, default=365, help="valid for this many days (default 365)")
        create.add_argument("--operator", default="", help="who runs this command (for the audit log)")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("prefix", help="the first 8 characters of the token")
        revoke.add_argument("--operator", default="")

    def handle(self, *args, operation: str, operator: str, **options):
        with acting_as(username=operator or "token-cli", route=f"cli:token {operation}"):
            if operation == "create":
                self._create(options["user"], options["name"], options["days"])
            else:
                self._revoke(options["prefix"])

    def _create(self, username: str, name: str, days: int):
        staff = Staff.objects.filter(username=username, is_active=True).first()
        if staff is None:
            raise CommandError(f"職員 {username} が見つかりません。 (No active staff account {username}.)")
        if days < 1:
            raise CommandError("--days は1以上にしてください。 (--days must be at least 1.)")
        token, key = ApiToken.issue(staff, name, expires_at=timezone.now() + timedelta(days=days))
        record(
            Action.CREATE,
            purpose=PURPOSE,
            object_type="api_token",
            detail={"prefix": token.prefix, "staff": username},
        )
        self.stdout.write(key)
        self.stderr.write(
            f"Token {token.prefix}… for {username}, valid until {token.expires_at:%Y-%m-%d}. Shown once."
        )

    def _revoke(self, prefix: str):
        updated = ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if not updated:
            raise CommandError(f"有効なトークン {prefix} はありません。 (No active token {prefix}.)")
        record(
            Action.CHANGE,
            purpose=PURPOSE,
            object_type="api_token",
            detail={"prefix": prefix, "revoked": updated},
        )
        self.stdout.write(f"revoked {updated} token(s) {prefix}")

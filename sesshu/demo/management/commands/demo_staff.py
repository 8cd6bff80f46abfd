"""Create the demo's staff accounts, one or two per role, with random passwords in a 0600 file.

Rerunning keeps existing accounts and their passwords (the file is the record of them).
"""

import os
import secrets
import string
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from sesshu.accounts.models import Staff
from sesshu.accounts.roles import ROLES_BY_CODE, assign_role
from sesshu.audit.context import acting_as
from sesshu.audit.models import Action
from sesshu.audit.services import record

DEMO_STAFF = [
    # user name, display name, department, role
    ("clerk1", "予防 花子", "保健センター", "clerk"),
    ("clerk2", "接種 次郎", "保健センター", "clerk"),
    ("number1", "番号 一郎", "保健センター", "number_use"),
    ("number2", "番号 二葉", "保健センター", "number_use"),
    ("supervisor1", "監督 三郎", "健康管理課", "supervisor"),
    ("auditor1", "監査 四季", "情報政策課", "auditor"),
    ("admin1", "管理 五郎", "情報政策課", "sysadmin"),
    ("register1", "住記 六花", "市民課", "register"),
    ("register2", "住記 七海", "市民課", "register"),
]


def random_password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        body = "".join(secrets.choice(alphabet) for _ in range(14))
        if (
            any(c.isdigit() for c in body)
            and any(c.islower() for c in body)
            and any(c.isupper() for c in body)
        ):
            return body + secrets.choice("-_.!")


class Command(BaseCommand):
    help = "Create demo staff accounts with random passwords written to var/demo-credentials.txt (mode 0600)."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(Path(settings.VAR_DIR) / "demo-credentials.txt"))

    def handle(self, *args, file: str, **options):
        path = Path(file)
        known = self._read(path)
        lines = ["# sesshu demo accounts. Keep this file private (mode 0600). user<TAB>password<TAB>role"]
        created = []
        with acting_as(username="demo_staff", route="cli:demo_staff"):
            for username, display, department, role in DEMO_STAFF:
                staff = Staff.objects.filter(username=username).first()
                password = known.get(username)
                if staff is None or password is None:
                    password = random_password()
                    staff = staff or Staff(username=username)
                    staff.display_name, staff.department = display, department
                    staff.is_staff = role == "sysadmin"  # the admin site is for accounts only
                    staff.set_password(password)
                    staff.save()
                    created.append(username)
                assign_role(staff, role)
                lines.append(f"{username}\t{password}\t{ROLES_BY_CODE[role].name} ({role})")
            if created:
                record(
                    Action.CREATE,
                    purpose="デモ職員の作成 (demo staff accounts)",
                    object_type="staff",
                    detail={"usernames": created},
                )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        os.chmod(path, 0o600)
        self.stdout.write(f"Demo accounts: {', '.join(u for u, *_ in DEMO_STAFF)} (passwords in {path})")

    @staticmethod
    def _read(path: Path) -> dict[str, str]:
        if not path.exists():
            return {}
        rows = [
            line.split("\t")
            for line in path.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")
        ]
        return {row[0]: row[1] for row in rows if len(row) >= 2}

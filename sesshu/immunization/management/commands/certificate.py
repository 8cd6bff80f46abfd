"""Vaccination certificates from the command line (docs/certificates.md):

    sesshu certificate issue --person ID --kind overseas|domestic [--record ID ...]
                             [--passport-name "FAMILY GIVEN" --passport-number N --nationality JPN
                              --other-names TEXT] [--pdf FILE] [--operator NAME]
    sesshu certificate verify 'shc:/...'        (or - to read it from standard input)
    sesshu certificate revoke CERTIFICATE_ID --reason TEXT [--operator NAME]
    sesshu certificate keys status | rotate | generate FILE

``issue`` prints the certificate's ``shc:/`` text on standard output. It runs as a staff member who holds
the right to issue: ``--operator NAME``, or else the staff account named like the OS user; it is audited
as that person. ``verify`` exits 0 for a genuine certificate, 3 for a revoked one and 1 otherwise, with
the answer in Japanese and English.
"""

import getpass
import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sesshu.accounts.models import Staff
from sesshu.accounts.roles import has_right
from sesshu.audit.context import acting_as
from sesshu.audit.models import Action
from sesshu.audit.services import record
from sesshu.core.problems import Problem, ProblemList
from sesshu.immunization.certificates import keys, services
from sesshu.immunization.certificates.keys import IssuerKeyError

EXIT_INVALID = 1
EXIT_REVOKED = 3
KEY_PURPOSE = "接種証明書の署名鍵管理 (vaccination certificates: issuer keys)"


def _problems_text(problems: list[Problem]) -> str:
    return "\n".join(f"{p.ja} ({p.en})" for p in problems)


def split_latin_name(text: str) -> tuple[str, str]:
    """ "TANAKA, SHOTA" or "TANAKA SHOTA" -> ("TANAKA", "SHOTA"): the family name comes first, as in the
    passport's machine-readable zone."""
    text = (text or "").strip()
    if "," in text:
        family, _, given = text.partition(",")
    else:
        family, _, given = text.partition(" ")
    return family.strip(), given.strip()


class Command(BaseCommand):
    help = "Issue, verify and revoke vaccination certificates (SMART Health Cards); manage the issuer keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="operation", required=True)
        issue = sub.add_parser("issue", help="issue a 接種証明書 and print its shc:/ text")
        issue.add_argument("--person", required=True, help="the person's id (統合宛名 person id)")
        issue.add_argument("--kind", required=True, choices=["overseas", "domestic"])
        issue.add_argument("--record", action="append", help="a record id to certify (default: every dose)")
        issue.add_argument(
            "--passport-name", default="", help='the Latin name as in the passport, "FAMILY GIVEN"'
        )
        issue.add_argument("--passport-number", default="")
        issue.add_argument("--nationality", default="", help="three-letter code, e.g. JPN")
        issue.add_argument("--other-names", default="", help="旧姓・別姓・別名")
        issue.add_argument("--pdf", type=Path, help="also write the PDF here (readable by you only)")
        verify = sub.add_parser("verify", help="check a shc:/ text (exit 0 genuine, 3 revoked, 1 otherwise)")
        verify.add_argument("text", help="the shc:/ text, or - to read standard input")
        revoke = sub.add_parser("revoke", help="revoke a certificate, with the reason")
        revoke.add_argument("certificate_id")
        revoke.add_argument("--reason", required=True)
        key_ops = sub.add_parser("keys", help="the issuer keys: status, rotate, generate FILE")
        key_ops.add_argument("key_operation", choices=["status", "rotate", "generate"])
        key_ops.add_argument("file", nargs="?", help="for generate: where to write the new key")
        for command in (issue, verify, revoke, key_ops):
            command.add_argument("--operator", default="", help="the staff account running this (audit log)")

    def handle(self, *args, operation: str, operator: str, **options):
        if operation == "verify":
            return self._verify(options["text"], operator)
        if operation == "keys":
            return self._keys(options["key_operation"], options.get("file"), operator)
        right = (
            "immunization.issue_certificate" if operation == "issue" else "immunization.revoke_certificate"
        )
        staff = self._operator(operator, right)
        with acting_as(staff, route=f"cli:certificate {operation}"):
            if operation == "issue":
                self._issue(staff, options)
            else:
                self._revoke(staff, options["certificate_id"], options["reason"])

    # Who runs it ----------------------------------------------------------------------------------------

    def _operator(self, name: str, right: str) -> Staff:
        name = name or getpass.getuser()
        staff = Staff.objects.filter(username=name, is_active=True).first()
        if staff is None:
            raise CommandError(
                f"職員アカウント {name} がありません。--operator で職員を指定してください。 "
                f"(No active staff account {name}: name the staff member running this with --operator.)"
            )
        if not has_right(staff, right):
            with acting_as(staff, route="cli:certificate"):
                record(
                    Action.DENIED,
                    purpose=services.PURPOSE_ISSUE,
                    outcome="denied",
                    detail={"permission": right},
                )
            raise CommandError(
                f"職員 {name} にはこの操作の権限がありません。 "
                f"(Staff member {name} does not hold the right {right}.)"
            )
        return staff

    def _resolve_optional(self, name: str) -> Staff | None:
        name = name or getpass.getuser()
        return Staff.objects.filter(username=name, is_active=True).first()

    # Operations -----------------------------------------------------------------------------------------

    def _issue(self, staff: Staff, options) -> None:
        family, given = split_latin_name(options["passport_name"])
        passport = {
            "family_name_latin": family,
            "given_name_latin": given,
            "passport_number": options["passport_number"],
            "nationality": options["nationality"],
            "other_names": options["other_names"],
        }
        try:
            issued = services.issue_vaccination_certificate(
                options["person"],
                options["kind"],
                passport_data=passport,
                record_ids=options["record"],
                issued_by=staff,
            )
        except ProblemList as exc:
            raise CommandError(_problems_text(exc.problems)) from None
        except Problem as problem:
            raise CommandError(_problems_text([problem])) from None
        except IssuerKeyError as exc:
            raise CommandError(str(exc)) from None
        if options["pdf"]:
            descriptor = os.open(options["pdf"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(issued.pdf)
        certificate = issued.certificate
        self.stderr.write(
            f"証明書ID {certificate.certificate_id} を交付しました（{certificate.get_kind_display()}、"
            f"{certificate.records.count()}件）。 (Issued certificate {certificate.certificate_id}.)"
        )
        self.stdout.write(issued.shc)

    def _revoke(self, staff: Staff, certificate_id: str, reason: str) -> None:
        try:
            services.revoke(certificate_id, reason, revoked_by=staff)
        except ProblemList as exc:
            raise CommandError(_problems_text(exc.problems)) from None
        except Problem as problem:
            raise CommandError(_problems_text([problem])) from None
        self.stdout.write(
            f"証明書 {certificate_id} を失効させました。 (Certificate {certificate_id} revoked.)"
        )

    def _verify(self, text: str, operator: str) -> None:
        if text == "-":
            text = sys.stdin.read(200_000)
        staff = self._resolve_optional(operator)
        with acting_as(staff, username="certificate-cli", route="cli:certificate verify"):
            result = services.verify(text, viewer=staff)
        if result.genuine:
            self.stdout.write(
                "本物です：当市が発行・署名し、失効していません。 "
                "(Genuine: issued and signed by this city, not revoked.)"
            )
        elif result.revoked:
            self.stdout.write(
                "失効しています：この証明書は無効です。 (Revoked: this certificate is no longer valid.)"
            )
        else:
            self.stdout.write(f"本物ではありません：{result.problem.ja} (Not genuine: {result.problem.en})")
        if result.name:
            self.stdout.write(f"氏名 Name: {result.name}")
            self.stdout.write(f"生年月日 Date of birth: {result.birth_date}")
            if result.rid:
                self.stdout.write(f"証明書ID Certificate ID: {result.rid}")
            for dose in result.doses:
                self.stdout.write(
                    f"  {dose['date']}  {dose['vaccine']} ({dose['code']})  Lot {dose['lot_number'] or '-'}  "
                    f"{dose['performer']}"
                )
        if not result.genuine:
            sys.exit(EXIT_REVOKED if result.revoked else EXIT_INVALID)

    def _keys(self, operation: str, file: str | None, operator: str) -> None:
        if operation == "generate":
            if not file:
                raise CommandError(
                    "鍵ファイルの場所を指定してください。 (Give the file to write the key to.)"
                )
            try:
                kid = keys.generate(Path(file))
            except FileExistsError:
                raise CommandError(
                    f"{file} は既にあります。 ({file} exists: a key is never overwritten.)"
                ) from None
            self.stdout.write(f"kid {kid}")
            return
        staff = self._resolve_optional(operator)
        with acting_as(staff, username="certificate-cli", route=f"cli:certificate keys {operation}"):
            try:
                if operation == "rotate":
                    old, new = keys.rotate()
                    record(Action.SYSTEM, purpose=KEY_PURPOSE, object_type="shc_key",
                           detail={"operation": "rotate", "old_kid": old, "new_kid": new})  # fmt: skip
                    self.stdout.write(f"rotated: {old} -> {new} (the old public key stays published)")
                    return
                active = keys.signing_key().thumbprint()
            except IssuerKeyError as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(f"issuer (iss): {keys.issuer_url()}")
        self.stdout.write(f"signing key: {keys.key_path()} kid {active}")
        for key in keys.published_keys():
            mark = " (active)" if key["kid"] == active else ""
            self.stdout.write(f"published: {key['kid']}{mark}")

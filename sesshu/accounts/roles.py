"""The rights table (権限表): each role, and exactly which permissions it grants.

Rights come only from these roles. `sync_roles()` (run after every migrate) makes the groups in the
database match this table, so a review of this file is a review of who may do what.
A Django superuser flag grants nothing here: `has_right` reads roles only.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    code: str
    name: str
    name_en: str
    description: str
    permissions: tuple[str, ...]

    @property
    def label(self) -> str:
        """The role's name in the active language."""
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "ja").startswith("en") else self.name


CLERK = Role(
    "clerk",
    "一般職員",
    "Immunization clerk",
    "Immunization clerk: searches persons, reads their register data and vaccination history.",
    (
        "addressee.search_person",
        "addressee.view_person",
        "addressee.register_non_resident",
        "residents.view_household",
        "immunization.view_vaccinationrecord",
        # Records (docs/records.md): clerks enter doses and propose corrections and deletions; another
        # staff member with confirm_recordchange (any other clerk or a supervisor, never the author)
        # confirms them, as the register's clerks confirm each other's moves.
        "immunization.add_vaccinationrecord",
        "immunization.change_vaccinationrecord",
        "immunization.confirm_recordchange",
        # Certificates (docs/certificates.md): clerks issue them at the counter and see the register.
        "immunization.view_vaccinationcertificate",
        "immunization.issue_certificate",
        # 長期療養特例 (docs/schedule.md): recorded by the clerk who sees the doctor's note; audited.
        "immunization.add_longtermcareexception",
        # 対象者抽出 and notices (docs/notices.md): extract, print, remind, reissue; every export audited.
        "immunization.view_extractionbatch",
        "immunization.add_extractionbatch",
        "immunization.export_notices",
        "immunization.view_notice",
        "immunization.change_notice",
    ),
)
NUMBER_USE = Role(
    "number_use",
    "番号利用事務担当",
    "Number-use clerk",
    "Number-use clerk: everything a clerk does, and My Number work (from the addressee issue on).",
    (*CLERK.permissions, "addressee.use_mynumber"),
)
SUPERVISOR = Role(
    "supervisor",
    "監督者",
    "Supervisor",
    "Supervisor: reads what clerks read, reviews the audit log of the section.",
    (*CLERK.permissions, "audit.view_auditevent", "immunization.revoke_certificate"),
)
AUDITOR = Role(
    "auditor",
    "監査担当",
    "Auditor",
    "Auditor: the audit log only, and the chain check; no personal data.",
    ("audit.view_auditevent", "audit.verify_chain"),
)
SYSADMIN = Role(
    "sysadmin",
    "システム管理者",
    "System administrator",
    "System administrator: staff accounts, terminals and API tokens; no personal data by default.",
    (
        "accounts.view_staff",
        "accounts.add_staff",
        "accounts.change_staff",
        "auth.view_group",
        "accounts.view_terminal",
        "accounts.add_terminal",
        "accounts.change_terminal",
        "accounts.view_apitoken",
        "accounts.change_apitoken",
        "otp_totp.view_totpdevice",
        "otp_totp.change_totpdevice",
        "otp_totp.delete_totpdevice",
        # The record masters (docs/records.md): clinics, fee tables, doctors, makers, products, lots.
        # No resident data; maintained in the admin site.
        *(
            f"immunization.{verb}_{model}"
            for model in ("clinic", "clinicfee", "doctor", "maker", "product", "lot")
            for verb in ("view", "add", "change")
        ),
    ),
)
REGISTER_CLERK = Role(
    "register",
    "住民記録担当",
    "Resident register clerk",
    "Citizens division: enters and confirms moves (never their own), searches and prints the register.",
    (
        "residents.view_register",
        "residents.add_move",
        "residents.view_move",
        "residents.confirm_move",
        "residents.issue_juminhyo",
        "addressee.view_protected_address",
    ),
)
ROLES: tuple[Role, ...] = (CLERK, NUMBER_USE, SUPERVISOR, AUDITOR, SYSADMIN, REGISTER_CLERK)
ROLES_BY_CODE = {role.code: role for role in ROLES}


def group_name(role: Role) -> str:
    return f"{role.name} ({role.code})"


def sync_roles() -> None:
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    # post_migrate reaches apps one by one; make sure every app's permissions exist before granting.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)

    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=group_name(role))
        wanted = []
        for dotted in role.permissions:
            app_label, codename = dotted.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def assign_role(user, role_code: str) -> None:
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name=group_name(ROLES_BY_CODE[role_code])))


def rights_of(user) -> frozenset[str]:
    """The permissions the user's roles grant ("app.codename"), cached on the user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_sesshu_rights", None)
    if cached is None:
        from django.contrib.auth.models import Permission

        rows = Permission.objects.filter(group__user=user).values_list("content_type__app_label", "codename")
        cached = frozenset(f"{app}.{code}" for app, code in rows)
        user._sesshu_rights = cached
    return cached


def has_right(user, permission: str) -> bool:
    return permission in rights_of(user)


def roles_of(user) -> list[Role]:
    names = set(user.groups.values_list("name", flat=True))
    return [role for role in ROLES if group_name(role) in names]

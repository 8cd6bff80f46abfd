"""Every URL pattern of the product, and what the tests know about each one.

A new route must be added here, either as touching personal data (with how to call it and which
roles may) or as exempt (with the reason). The route test fails for a route in neither table.
"""

from dataclasses import dataclass

from django.urls import URLResolver, get_resolver, reverse


def all_routes() -> list[tuple[str, str]]:
    """(pattern, name) for every URL pattern, namespaces included."""

    def walk(patterns, prefix="", namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = ":".join(x for x in [namespace, pattern.namespace] if x) or None
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            else:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield prefix + str(pattern.pattern), name

    return list(walk(get_resolver().url_patterns))


EXEMPT = {
    "portal:home": "shows aggregate counts only (residents, records this month, events today)",
    "accounts:login": "the login form; login events are tested in test_authentication",
    "accounts:logout": "ends the session; the logout event is tested in test_authentication",
    "set_language": "stores the UI language in a cookie",
    "api:openapi-json": "the API description, no data",
    "api:api-root": "the API's index, no data",
    "otp:enrol": "sets up the staff member's own TOTP device; no resident data (tests/test_totp.py)",
    "otp:verify": "checks the staff member's one-time code; its events are tested in tests/test_totp.py",
    "otp:status": "shows whether this session passed the second factor; no resident data",
}
# The Django admin lists staff accounts, terminals and tokens only; no resident data is registered there.
EXEMPT_PREFIXES = {
    "admin/": "staff accounts, terminals, API tokens and TOTP devices only (sesshu/accounts/admin.py)"
}

CLERKS = {"clerk", "number_use", "supervisor"}
REGISTER = {"register"}


@dataclass(frozen=True)
class PersonalRoute:
    name: str
    url: object  # callable(data) -> URL
    allowed: frozenset[str]  # roles that may use it: written by hand, not derived from roles.py
    action: str  # the audit action a successful call writes
    api: bool = False
    method: str = "get"
    data: object = None  # callable(data) -> POST body
    ok_status: int = 200
    names_subjects: bool = True  # False where a successful call may show nobody (an empty list)
    # What the event's subjects are: addressee.Person ids, or the register's own Resident ids.
    subject: str = "person"

    def expected_subject(self, data) -> int:
        return data["child_resident"].pk if self.subject == "resident" else data["child"].pk


PERSONAL_ROUTES = [
    PersonalRoute(
        "immunization:search",
        lambda d: reverse("immunization:search") + "?name=タナカ",
        frozenset(CLERKS),
        "search",
    ),
    PersonalRoute(
        "immunization:person",
        lambda d: reverse("immunization:person", args=[d["child"].pk]),
        frozenset(CLERKS),
        "view",
    ),
    PersonalRoute(
        "api:search_persons",
        lambda d: reverse("api:search_persons") + "?name=たなか",
        frozenset(CLERKS),
        "search",
        api=True,
    ),
    PersonalRoute(
        "api:get_person",
        lambda d: reverse("api:get_person", args=[d["child"].pk]),
        frozenset(CLERKS),
        "view",
        api=True,
    ),
    PersonalRoute(
        "api:get_immunizations",
        lambda d: reverse("api:get_immunizations", args=[d["child"].pk]),
        frozenset(CLERKS),
        "view",
        api=True,
    ),
]
PERSONAL_ROUTES += [
    PersonalRoute(
        "residents:search",
        lambda d: reverse("residents:search") + "?name=タナカ&birth_date=2020-04-01",
        frozenset(REGISTER),
        "search",
        subject="resident",
    ),
    PersonalRoute(
        "residents:resident",
        lambda d: reverse("residents:resident", args=[d["child_resident"].resident_number]),
        frozenset(REGISTER),
        "view",
        subject="resident",
    ),
    PersonalRoute(
        "residents:household",
        lambda d: reverse("residents:household", args=[d["household"].household_number]),
        frozenset(REGISTER),
        "view",
        subject="resident",
    ),
    PersonalRoute(
        "residents:moves",
        lambda d: reverse("residents:moves"),
        frozenset(REGISTER),
        "view",
        subject="resident",
    ),
    PersonalRoute(
        "residents:move",
        lambda d: reverse("residents:move", args=[d["pending_move"].pk]),
        frozenset(REGISTER),
        "view",
        subject="resident",
    ),
    PersonalRoute(
        "residents:move_new",
        lambda d: reverse("residents:move_new", args=["death"]),
        frozenset(REGISTER),
        "create",
        method="post",
        data=lambda d: {
            "resident_number": d["child_resident"].resident_number,
            "effective_on": d["today"],
            "notified_on": d["today"],
        },
        ok_status=302,
        subject="resident",
    ),
    PersonalRoute(
        "residents:move_confirm",
        lambda d: reverse("residents:move_confirm", args=[d["pending_move"].pk]),
        frozenset(REGISTER),
        "change",
        method="post",
        data=lambda d: {},
        ok_status=302,
        subject="resident",
    ),
    PersonalRoute(
        "residents:move_reject",
        lambda d: reverse("residents:move_reject", args=[d["pending_move"].pk]),
        frozenset(REGISTER),
        "change",
        method="post",
        data=lambda d: {"reason": "記載誤り"},
        ok_status=302,
        subject="resident",
    ),
]
PERSONAL_ROUTES += [
    PersonalRoute(
        "api:search_register",
        lambda d: reverse("api:search_register") + "?name=たなか&birth_date=2020-04-01",
        frozenset(REGISTER),
        "search",
        api=True,
        subject="resident",
    ),
    PersonalRoute(
        "api:get_resident",
        lambda d: reverse("api:get_resident", args=[d["child_resident"].resident_number]),
        frozenset(REGISTER),
        "view",
        api=True,
        subject="resident",
    ),
    PersonalRoute(
        "api:get_household",
        lambda d: reverse("api:get_household", args=[d["household"].household_number]),
        frozenset(REGISTER),
        "view",
        api=True,
        subject="resident",
    ),
    PersonalRoute(
        "api:list_moves",
        lambda d: reverse("api:list_moves"),
        frozenset(REGISTER),
        "view",
        api=True,
        subject="resident",
    ),
    PersonalRoute(
        "api:create_move",
        lambda d: reverse("api:create_move"),
        frozenset(REGISTER),
        "create",
        api=True,
        method="post",
        data=lambda d: {
            "kind": "death",
            "data": {
                "resident_number": d["child_resident"].resident_number,
                "effective_on": d["today"],
                "notified_on": d["today"],
            },
        },
        ok_status=201,
        subject="resident",
    ),
    PersonalRoute(
        "api:confirm",
        lambda d: reverse("api:confirm", args=[d["pending_move"].pk]),
        frozenset(REGISTER),
        "change",
        api=True,
        method="post",
        data=lambda d: {},
        subject="resident",
    ),
    PersonalRoute(
        "api:reject",
        lambda d: reverse("api:reject", args=[d["pending_move"].pk]),
        frozenset(REGISTER),
        "change",
        api=True,
        method="post",
        data=lambda d: {"reason": "記載誤り"},
        subject="resident",
    ),
]
PERSONAL_ROUTES += [
    PersonalRoute(
        "residents:juminhyo_new",
        lambda d: reverse("residents:juminhyo_new") + f"?household={d['household'].household_number}",
        frozenset(REGISTER),
        "view",
        subject="resident",
    ),
    PersonalRoute(
        "residents:juminhyo_new",
        lambda d: reverse("residents:juminhyo_new"),
        frozenset(REGISTER),
        "export",
        method="post",
        data=lambda d: {
            "household_number": d["household"].household_number,
            "scope": "household",
            "include_relationship": "1",
            "as_of": d["today"],
            "requester_kind": "self",
            "requester_name": "田中 一郎",
            "purpose": "勤務先への提出",
        },
        subject="resident",
    ),
    PersonalRoute(
        "residents:juminhyo_register",
        lambda d: reverse("residents:juminhyo_register"),
        frozenset(REGISTER),
        "view",
        names_subjects=False,
        subject="resident",
    ),
]
NUMBER_USE = {"number_use"}
PERSONAL_ROUTES += [
    PersonalRoute(
        "addressee:search",
        lambda d: reverse("addressee:search"),
        frozenset(NUMBER_USE),
        "search",
        method="post",
        data=lambda d: {"number": d["numbers"][d["child"].pk], "purpose": "予防接種事務の本人確認"},
        ok_status=302,
    ),
    PersonalRoute(
        "addressee:register",
        lambda d: reverse("addressee:register", args=[d["child"].pk]),
        frozenset(NUMBER_USE),
        "view",
    ),
    PersonalRoute(
        "addressee:register",
        lambda d: reverse("addressee:register", args=[d["child"].pk]),
        frozenset(NUMBER_USE),
        "create",
        method="post",
        data=lambda d: {"number": "800000000554", "identity_check": "mynumber_card"},
        ok_status=302,
    ),
    PersonalRoute(
        "addressee:requests", lambda d: reverse("addressee:requests"), frozenset(NUMBER_USE), "view"
    ),
    PersonalRoute(
        "addressee:confirm",
        lambda d: reverse("addressee:confirm", args=[d["pending_number"].pk]),
        frozenset(NUMBER_USE),
        "change",
        method="post",
        data=lambda d: {},
        ok_status=302,
    ),
    PersonalRoute(
        "addressee:reject",
        lambda d: reverse("addressee:reject", args=[d["pending_number"].pk]),
        frozenset(NUMBER_USE),
        "change",
        method="post",
        data=lambda d: {"reason": "本人確認書類の不備"},
        ok_status=302,
    ),
    PersonalRoute(
        "addressee:reveal",
        lambda d: reverse("addressee:reveal", args=[d["child"].pk]),
        frozenset(NUMBER_USE),
        "view",
        method="post",
        data=lambda d: {"purpose": "他市への接種歴照会"},
    ),
]
PERSONAL_BY_NAME = {route.name: route for route in PERSONAL_ROUTES}


def call(client, route: PersonalRoute, data, **extra):
    """Call a route the way its clients do: JSON for the API, a form post for screens."""
    url = route.url(data)
    if route.method != "post":
        return client.get(url, **extra)
    if route.api:
        import json

        return client.post(url, json.dumps(route.data(data)), content_type="application/json", **extra)
    return client.post(url, route.data(data), **extra)


def is_exempt(pattern: str, name: str | None) -> bool:
    return name in EXEMPT or any(pattern.startswith(prefix) for prefix in EXEMPT_PREFIXES)


# Non-residents (住登外者) and the conversion service (sesshu/addressee/non_residents.py, conversion.py).
def _non_resident(d):
    """A non-resident for the routes that correct one: made once per test, outside any request (so
    its creation event has no actor and does not count as the caller's)."""
    if "non_resident" not in d:
        from sesshu.addressee.non_residents import register_non_resident

        d["non_resident"] = register_non_resident(
            {
                "family_name": "高木", "given_name": "陽菜", "family_name_kana": "タカギ",
                "given_name_kana": "ヒナ", "birth_date": "2018-03-03", "sex": "F",
                "postal_code": "100-0001", "address": "東京都千代田区千代田1-1",
            },
            source="他市からの通知",
            author=None,
        )  # fmt: skip
    return d["non_resident"]


@dataclass(frozen=True)
class NonResidentRoute(PersonalRoute):
    """A route about the non-resident above: its events name that person, not the family's child."""

    def expected_subject(self, data) -> int:
        return _non_resident(data).pk


def _non_resident_form(d, **changes):
    return {
        "family_name": "高木", "given_name": "陽菜", "family_name_kana": "たかぎ", "given_name_kana": "ひな",
        "birth_date": "H30.3.3", "sex": "F", "postal_code": "100-0001", "address": "東京都千代田区千代田1-1",
        "source": "他市からの通知",
    } | changes  # fmt: skip


# Other people than the one above, so that registering them is no possible duplicate of it.
NEW_ON_SCREEN = {
    "family_name": "佐藤", "given_name": "美咲", "family_name_kana": "サトウ", "given_name_kana": "ミサキ",
    "birth_date": "2015-07-07",
}  # fmt: skip
NEW_BY_API = {
    "family_name": "鈴木", "given_name": "健", "family_name_kana": "すずき", "given_name_kana": "けん",
    "birth_date": "令和2年1月15日", "sex": "M",
}  # fmt: skip


PERSONAL_ROUTES += [
    PersonalRoute(
        "non_residents:new",
        lambda d: reverse("non_residents:new"),
        frozenset(CLERKS),
        "create",
        method="post",
        data=lambda d: _non_resident_form(d, **NEW_ON_SCREEN),
        ok_status=302,
        names_subjects=False,  # the new person; nobody known before the call
    ),
    NonResidentRoute(
        "non_residents:edit",
        lambda d: reverse("non_residents:edit", args=[_non_resident(d).pk]),
        frozenset(CLERKS),
        "view",
    ),
    NonResidentRoute(
        "non_residents:edit",
        lambda d: reverse("non_residents:edit", args=[_non_resident(d).pk]),
        frozenset(CLERKS),
        "change",
        method="post",
        data=lambda d: _non_resident_form(d, address="東京都千代田区千代田2-2"),
        ok_status=302,
    ),
    PersonalRoute(
        "api:convert_business_number",
        lambda d: (
            f"{reverse('api:convert_business_number')}?system=residents&number="
            f"{d['child_resident'].resident_number}"
        ),
        frozenset(CLERKS),
        "search",
        api=True,
    ),
    PersonalRoute(
        "api:get_business_numbers",
        lambda d: reverse("api:get_business_numbers", args=[d["child"].pk]),
        frozenset(CLERKS),
        "view",
        api=True,
    ),
    PersonalRoute(
        "api:create_non_resident",
        lambda d: reverse("api:create_non_resident"),
        frozenset(CLERKS),
        "create",
        api=True,
        method="post",
        data=lambda d: _non_resident_form(d, **NEW_BY_API),
        ok_status=201,
        names_subjects=False,  # the new person
    ),
]
PERSONAL_BY_NAME.update({r.name: r for r in PERSONAL_ROUTES})
PERSONAL_ROUTES += [
    PersonalRoute(
        "addressee:alternative_address",
        lambda d: reverse("addressee:alternative_address", args=[d["child"].pk]),
        frozenset(REGISTER),  # the role that may see protected addresses
        "change",
        method="post",
        data=lambda d: {
            "alternative_postal_code": "359-0099",
            "alternative_address": "東和県桜ヶ丘市本町1-1 私書箱",
        },
        ok_status=302,
    ),
]
PERSONAL_BY_NAME.update({r.name: r for r in PERSONAL_ROUTES})
# The schedule forecast (docs/schedule.md).
EXEMPT["api:forecast_for_input"] = (
    "computes a forecast from the birth date, sex and history in the request; reads and stores nothing "
    "about any person (tests/test_forecast_api.py checks the right)"
)
PERSONAL_ROUTES += [
    PersonalRoute(
        "api:forecast_for_person",
        lambda d: reverse("api:forecast_for_person", args=[d["child"].pk]),
        frozenset(CLERKS),
        "view",
        api=True,
    ),
    PersonalRoute(
        "immunization:long_term_care",
        lambda d: reverse("immunization:long_term_care", args=[d["child"].pk]),
        frozenset(CLERKS),
        "create",
        method="post",
        data=lambda d: {
            "series": "MR-1",
            "reason": "白血病の治療",
            "illness_from": "2021-01-01",
            "illness_until": "2022-06-30",
        },
        ok_status=302,
    ),
]
PERSONAL_BY_NAME.update({r.name: r for r in PERSONAL_ROUTES})


# Certificates (docs/certificates.md). The public verification page and the published keys are exempt;
# staff verification and every other certificate route is audited (tests/test_certificates.py).
EXEMPT["certificates:verify"] = (
    "public SMART Health Card verifier: shows only what the pasted card says; staff checks are audited "
    "(tests/test_certificates.py)"
)
EXEMPT_PREFIXES[".well-known/"] = (
    "the issuer's public keys (jwks.json) and each key's revocation list (random certificate ids only)"
)


def _certificate(d):
    """A certificate of the child, issued once per test outside any request (no actor, not the caller's)."""
    if "certificate" not in d:
        from sesshu.immunization.certificates.services import issue_vaccination_certificate

        from .factories import make_staff

        d["certificate"] = issue_vaccination_certificate(
            d["child"].pk, "domestic", issued_by=make_staff("clerk")
        ).certificate
    return d["certificate"].certificate_id


PERSONAL_ROUTES += [
    PersonalRoute(
        "certificates:person",
        lambda d: reverse("certificates:person", args=[d["child"].pk]),
        frozenset(CLERKS),
        "view",
    ),
    PersonalRoute(
        "certificates:new",
        lambda d: reverse("certificates:new", args=[d["child"].pk, "overseas"]),
        frozenset(CLERKS),
        "view",
    ),
    PersonalRoute(
        "certificates:new",
        lambda d: reverse("certificates:new", args=[d["child"].pk, "overseas"]),
        frozenset(CLERKS),
        "export",
        method="post",
        data=lambda d: {
            "family_name_latin": "TANAKA",
            "given_name_latin": "SHOTA",
            "nationality": "JPN",
            "passport_number": "TZ1234567",
            "records": [r.pk for r in d["child"].vaccinations.all()],
        },
        ok_status=302,
    ),
    PersonalRoute(
        "certificates:completion",
        lambda d: reverse(
            "certificates:completion", args=[d["child"].pk, d["child"].vaccinations.order_by("pk").first().pk]
        ),
        frozenset(CLERKS),
        "export",
        method="post",
        data=lambda d: {},
    ),
    PersonalRoute(
        "certificates:detail",
        lambda d: reverse("certificates:detail", args=[_certificate(d)]),
        frozenset(CLERKS),
        "view",
    ),
    PersonalRoute(
        "certificates:pdf",
        lambda d: reverse("certificates:pdf", args=[_certificate(d)]),
        frozenset(CLERKS),
        "export",
    ),
    PersonalRoute(
        "certificates:revoke",
        lambda d: reverse("certificates:revoke", args=[_certificate(d)]),
        frozenset({"supervisor"}),
        "change",
        method="post",
        data=lambda d: {"reason": "記載誤りのため再交付"},
        ok_status=302,
    ),
    PersonalRoute(
        "certificates:register",
        lambda d: reverse("certificates:register"),
        frozenset(CLERKS),
        "view",
        names_subjects=False,
    ),
]
PERSONAL_BY_NAME.update({r.name: r for r in PERSONAL_ROUTES})


# 対象者抽出 and notices (sesshu/immunization/extraction.py, notices/; tests/test_notices_views.py).
EXEMPT["notices:batches"] = "lists extraction batches with counts only (no person) and the start form"
EXEMPT["notices:status"] = "a batch's run progress (counts only, no person), polled every second"


def _notice_batch(d):
    """Reminders for 日本脳炎 第1期 in 2026年度 (as of 2026-11-23): the family's child (born 2020-04-01,
    never vaccinated against JE, its standard period over) is in it. Made once per test, outside any
    request."""
    if "notice_batch" not in d:
        from datetime import date

        from sesshu.immunization.extraction import fiscal_year, run_batch, start_batch
        from sesshu.immunization.models import Notice

        run = run_batch(start_batch("reminder", fiscal_year(2026), ["JE-1"], as_of=date(2026, 11, 23)).pk)
        d["notice_batch"] = run.batch
        d["child_notice"] = Notice.objects.get(batch=run.batch, person=d["child"])
    return d["notice_batch"]


def _child_notice(d):
    _notice_batch(d)
    return d["child_notice"]


def _interrupted_run(d):
    """A run stopped half-way (its process killed): nothing released, to be resumed or rolled back."""
    if "interrupted_run" not in d:
        from datetime import date

        from sesshu.immunization.extraction import fiscal_year, start_batch
        from sesshu.immunization.models import ExtractionRun, RunStatus

        run = start_batch("notice", fiscal_year(2026), ["JE-1"], as_of=date(2026, 11, 23))
        ExtractionRun.objects.filter(pk=run.pk).update(status=RunStatus.INTERRUPTED)
        d["interrupted_run"] = run
    return d["interrupted_run"]


PERSONAL_ROUTES += [
    PersonalRoute(
        "notices:start",
        lambda d: reverse("notices:start"),
        frozenset(CLERKS),
        "create",
        method="post",
        data=lambda d: {
            "purpose": "notice",
            "period_kind": "fiscal_year",
            "period": "2026",
            "series": ["MR-2"],
        },
        ok_status=302,
        names_subjects=False,  # the parameters; the run's own event names the persons
    ),
    PersonalRoute(
        "notices:batch",
        lambda d: reverse("notices:batch", args=[_notice_batch(d).pk]),
        frozenset(CLERKS),
        "view",
    ),
    PersonalRoute(
        "notices:csv",
        lambda d: reverse("notices:csv", args=[_notice_batch(d).pk]) + "?encoding=cp932",
        frozenset(CLERKS),
        "export",
    ),
    PersonalRoute(
        "notices:pdf",
        lambda d: reverse("notices:pdf", args=[_notice_batch(d).pk]) + "?part=1",
        frozenset(CLERKS),
        "export",
    ),
    PersonalRoute(
        "notices:resume",
        lambda d: reverse("notices:resume"),
        frozenset(CLERKS),
        "change",
        method="post",
        data=lambda d: {"run": _interrupted_run(d).pk},
        ok_status=302,
        names_subjects=False,
    ),
    PersonalRoute(
        "notices:rollback",
        lambda d: reverse("notices:rollback"),
        frozenset(CLERKS),
        "delete",
        method="post",
        data=lambda d: {"run": _interrupted_run(d).pk},
        ok_status=302,
        names_subjects=False,
    ),
    PersonalRoute(
        "notices:find",
        lambda d: reverse("notices:find") + f"?ticket_number={_child_notice(d).ticket_number}",
        frozenset(CLERKS),
        "search",
        ok_status=302,
    ),
    PersonalRoute(
        "notices:notice",
        lambda d: reverse("notices:notice", args=[_child_notice(d).pk]),
        frozenset(CLERKS),
        "view",
    ),
    PersonalRoute(
        "notices:reissue",
        lambda d: reverse("notices:reissue", args=[_child_notice(d).pk]),
        frozenset(CLERKS),
        "change",
        method="post",
        data=lambda d: {"reason": "紛失のため"},
        ok_status=302,
    ),
    PersonalRoute(
        "notices:notice_pdf",
        lambda d: reverse("notices:notice_pdf", args=[_child_notice(d).pk]),
        frozenset(CLERKS),
        "export",
    ),
]
PERSONAL_BY_NAME.update({r.name: r for r in PERSONAL_ROUTES})


# Vaccination records: entry, history, four-eyes changes (sesshu/immunization/views_records.py), FHIR.
def _child_record(d):
    return d["child"].vaccinations.order_by("pk").first()


def _pending_record_change(d):
    """A deletion of the child's BCG record proposed by another clerk, made once per test."""
    if "pending_record_change" not in d:
        from sesshu.immunization.records import propose_change

        from .factories import make_staff

        record = d["child"].vaccinations.get(vaccine="BCG")
        d["pending_record_change"] = propose_change(
            record.pk, kind="delete", reason="重複登録", actor=make_staff("clerk")
        )
    return d["pending_record_change"]


_ENTRY = {
    "vaccine": "JE",
    "dose_number": "1",
    "vaccinated_on": "R5.6.1",
    "legal_category": "routine",
    "delivery": "individual",
    "payment": "public",
    "step": "confirm",
    "flag_note": "試験",
}
PERSONAL_ROUTES_RECORDS = [
    PersonalRoute(
        "records:start",
        lambda d: reverse("records:start") + "?name=タナカ&birth_date=2020-04-01",
        frozenset(CLERKS),
        "search",
    ),
    PersonalRoute(
        "records:enter", lambda d: reverse("records:enter", args=[d["child"].pk]), frozenset(CLERKS), "view"
    ),
    PersonalRoute(
        "records:enter",
        lambda d: reverse("records:enter", args=[d["child"].pk]),
        frozenset(CLERKS),
        "create",
        method="post",
        data=lambda d: _ENTRY,
        ok_status=302,
    ),
    PersonalRoute(
        "records:person", lambda d: reverse("records:person", args=[d["child"].pk]), frozenset(CLERKS), "view"
    ),
    PersonalRoute(
        "records:detail",
        lambda d: reverse("records:detail", args=[_child_record(d).pk]),
        frozenset(CLERKS),
        "view",
    ),
    PersonalRoute(
        "records:correct",
        lambda d: reverse("records:correct", args=[_child_record(d).pk]),
        frozenset(CLERKS),
        "change",
        method="post",
        data=lambda d: _ENTRY | {"vaccine": "MR", "vaccinated_on": "2021-04-11", "reason": "日付誤り"},
        ok_status=302,
    ),
    PersonalRoute(
        "records:delete",
        lambda d: reverse("records:delete", args=[_child_record(d).pk]),
        frozenset(CLERKS),
        "change",
        method="post",
        data=lambda d: {"reason": "重複登録"},
        ok_status=302,
    ),
    PersonalRoute(
        "records:changes",
        lambda d: reverse("records:changes"),
        frozenset(CLERKS),
        "view",
        names_subjects=False,
    ),
    PersonalRoute(
        "records:confirm",
        lambda d: reverse("records:confirm", args=[_pending_record_change(d).pk]),
        frozenset(CLERKS),
        "delete",
        method="post",
        data=lambda d: {},
        ok_status=302,
    ),
    PersonalRoute(
        "records:reject",
        lambda d: reverse("records:reject", args=[_pending_record_change(d).pk]),
        frozenset(CLERKS),
        "change",
        method="post",
        data=lambda d: {"reason": "重複ではない"},
        ok_status=302,
    ),
    PersonalRoute(
        "fhir:everything",
        lambda d: reverse("fhir:everything", args=[d["child"].pk]),
        frozenset(CLERKS),
        "export",
    ),
    PersonalRoute(
        "fhir:immunizations",
        lambda d: reverse("fhir:immunizations") + f"?patient={d['child'].pk}",
        frozenset(CLERKS),
        "export",
    ),
]
PERSONAL_ROUTES += PERSONAL_ROUTES_RECORDS
PERSONAL_BY_NAME.update({r.name: r for r in PERSONAL_ROUTES_RECORDS})
EXEMPT["records:masters"] = (
    "the record masters (clinics, fee tables, doctors, products, lots): no resident data"
)


# The clinics' monthly files (sesshu/immunization/views_imports.py): the child's dose, and two rows in
# doubt whose only candidate is the child (the file says 女, the register 男).
_CLINIC_CSV = (
    "氏名カナ,生年月日,性別,ワクチンコード,接種回,接種日\r\n"
    "タナカ ショウタ,2020-04-01,,JE,1,R5.6.1\r\n"
    "タナカ ショウタ,2020-04-01,女,JE,2,R5.7.1\r\n"
    "タナカ ショウタ,2020-04-01,女,DPT-IPV,1,R2.7.1\r\n"
).encode("utf-8-sig")


def _import_clinic(d):
    from datetime import date

    from sesshu.immunization.models import Clinic

    if "import_clinic" not in d:
        d["import_clinic"] = Clinic.objects.get_or_create(
            code="9900000001", defaults={"name": "桜ヶ丘こどもクリニック", "contract_from": date(2000, 4, 1)}
        )[0]
    return d["import_clinic"]


def _clinic_file(d):
    """The file above, uploaded by another clerk once per test."""
    if "clinic_file" not in d:
        from sesshu.immunization.clinic_import.services import upload

        from .factories import make_staff

        d["clinic_file"] = upload(
            _CLINIC_CSV, "routes.csv", clinic=_import_clinic(d), billing_month=None, actor=make_staff("clerk")
        )
    return d["clinic_file"]


def _doubt_row(d, n):
    return _clinic_file(d).import_rows.get(row_number=n)


def _upload_data(d):
    from django.core.files.uploadedfile import SimpleUploadedFile

    # Other bytes than _clinic_file's (a trailing empty line), so both may run in one test.
    data = _CLINIC_CSV + b"\r\n"
    return {"file": SimpleUploadedFile("c.csv", data, "text/csv"), "clinic": _import_clinic(d).code}


_CLERKS = frozenset(CLERKS)
PERSONAL_ROUTES_IMPORTS = [
    PersonalRoute(
        "imports:upload",
        lambda d: reverse("imports:upload"),
        _CLERKS,
        "create",
        method="post",
        data=_upload_data,
        ok_status=302,
    ),
    PersonalRoute(
        "imports:preview", lambda d: reverse("imports:preview", args=[_clinic_file(d).pk]), _CLERKS, "view"
    ),
    PersonalRoute(
        "imports:commit",
        lambda d: reverse("imports:commit", args=[_clinic_file(d).pk]),
        _CLERKS,
        "create",
        method="post",
        data=lambda d: {},
        ok_status=302,
    ),
    PersonalRoute(
        "imports:withdraw",
        lambda d: reverse("imports:withdraw", args=[_clinic_file(d).pk]),
        _CLERKS,
        "change",
        method="post",
        data=lambda d: {"reason": "訂正版を受領"},
        ok_status=302,
    ),
    PersonalRoute(
        "imports:fees", lambda d: reverse("imports:fees", args=[_clinic_file(d).pk]), _CLERKS, "export"
    ),
    PersonalRoute("imports:review", lambda d: _clinic_file(d) and reverse("imports:review"), _CLERKS, "view"),
    PersonalRoute(
        "imports:resolve",
        lambda d: reverse("imports:resolve", args=[_doubt_row(d, 3).pk]),
        _CLERKS,
        "change",
        method="post",
        data=lambda d: {"person": d["child"].pk},
        ok_status=302,
    ),
    PersonalRoute(
        "imports:reject",
        lambda d: reverse("imports:reject", args=[_doubt_row(d, 4).pk]),
        _CLERKS,
        "change",
        method="post",
        data=lambda d: {"reason": "他市の記録"},
        ok_status=302,
    ),
]
# The fee reconciliation per clinic per month (the route file has no 請求年月: its rows count in the
# month of their 接種日, June 2023 for the child's first dose).
PERSONAL_ROUTES_IMPORTS += [
    PersonalRoute(
        "imports:fees_month",
        lambda d: _clinic_file(d) and reverse("imports:fees_month") + "?month=2023-06",
        _CLERKS,
        "view",
    ),
    PersonalRoute(
        "imports:fees_clinic_csv",
        lambda d: (
            _clinic_file(d) and reverse("imports:fees_clinic_csv", args=["2023-06", _import_clinic(d).code])
        ),
        _CLERKS,
        "export",
    ),
    PersonalRoute(
        "imports:fees_clinic_pdf",
        lambda d: (
            _clinic_file(d) and reverse("imports:fees_clinic_pdf", args=["2023-06", _import_clinic(d).code])
        ),
        _CLERKS,
        "export",
    ),
]
PERSONAL_ROUTES += PERSONAL_ROUTES_IMPORTS
PERSONAL_BY_NAME.update({r.name: r for r in PERSONAL_ROUTES_IMPORTS})
EXEMPT["imports:index"] = "the upload form and the files received (clinic, month, counts): no resident data"

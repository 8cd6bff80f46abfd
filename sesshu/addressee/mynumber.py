"""My Number work: the only audited way in and out of the vault for staff and for other apps.

Every function here writes the audit event for what it does; none puts a number into an event, a
message or a log (a search records its criteria as "[redacted]"). Views call these functions only
behind ``require_number_use`` (the role's right plus a verified second factor).

- ``submit_registration`` / ``confirm_registration`` / ``reject_registration``: a number collected at
  the counter, with the identity check the law asks for (番号法 §16), confirmed by a second clerk.
- ``reveal``: show a stored number, for a stated purpose.
- ``find_by_number``: exact look-up through the blind index.
- ``number_for``: the one function other apps call when their work needs the number.
- ``register_issued_numbers``: numbers the national issuer gave to new residents (no counter check).
"""

import re
import unicodedata

from django.db import transaction
from django.utils import timezone

from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record
from sesshu.core.numbers import validate_mynumber
from sesshu.core.problems import Problem, ProblemList

from . import vault
from .models import Person
from .models_vault import IdentityCheck, MyNumberRecord, MyNumberRequest, RequestStatus

PURPOSE_REGISTER = "個人番号の登録 (My Number registration)"
PURPOSE_REVEAL = "個人番号の表示 (My Number reveal)"
PURPOSE_SEARCH = "個人番号による検索 (search by My Number)"
PURPOSE_SYSTEM = "個人番号の付番連携 (My Numbers from the national issuer)"
COUNTER_CHECKS = [c for c in IdentityCheck if c != IdentityCheck.JUKI_NET]
REDACTED = "[redacted]"


def _person(person_id: int) -> Person:
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise Problem("not_found", "該当する人が見つかりません。", "No such person.")
    return person


_NUMBER_LIKE = re.compile(r"\d(?:[\s\-‐－]*\d){11}")


def _purpose(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").strip()
    if _NUMBER_LIKE.search(text):
        # The purpose is kept in the audit log as typed: a number written into it would leak there.
        raise Problem(
            "purpose_has_number",
            "理由の欄に個人番号を書かないでください。",
            "Do not write a My Number in the purpose.",
            "purpose",
        )
    if not text:
        raise Problem(
            "purpose_required",
            "個人番号を扱う理由（事務の目的）を入力してください。",
            "State the purpose (the work this number is needed for).",
            "purpose",
        )
    if len(text) > 200:
        raise Problem(
            "too_long",
            "理由は200文字以内で入力してください。",
            "Keep the purpose under 200 characters.",
            "purpose",
        )
    return text


def is_registered(person: Person) -> bool:
    return MyNumberRecord.objects.filter(person=person).exists()


def registration_form(person_id: int) -> tuple[Person, bool]:
    """The person a number is being registered for, and whether one is registered (a logged read)."""
    person = _person(person_id)
    record(Action.VIEW, purpose=PURPOSE_REGISTER, object_type="person", subjects=[person.pk])
    return person, is_registered(person)


# Registration with four-eyes -----------------------------------------------------------------------


def submit_registration(person_id: int, raw_number: str, identity_check: str, *, author) -> MyNumberRequest:
    person = _person(person_id)
    problems = []
    number = None
    try:
        number = validate_mynumber(raw_number)
    except Problem as problem:
        problem.field = "number"
        problems.append(problem)
    if identity_check not in COUNTER_CHECKS:
        problems.append(
            Problem(
                "identity_check_required",
                "本人確認の方法を選んでください。",
                "Choose how the person's identity was checked.",
                "identity_check",
            )
        )
    if problems:
        raise ProblemList(problems)
    other = vault.find_person_by_number(number)
    if other is not None and other.pk != person.pk:
        raise ProblemList([vault.DUPLICATE])
    data_key, nonce, ciphertext = vault.seal_pending(person.pk, number)  # it waits encrypted
    with transaction.atomic():
        request = MyNumberRequest.objects.create(
            person=person,
            ciphertext=ciphertext,
            nonce=nonce,
            data_key=data_key,
            identity_check=identity_check,
            author=author,
        )
        record(
            Action.CREATE,
            purpose=PURPOSE_REGISTER,
            object_type="mynumber_request",
            subjects=[person.pk],
            detail={"request": request.pk, "identity_check": identity_check},
        )
    return request


def _reviewable(request_id: int, reviewer) -> MyNumberRequest:
    request = MyNumberRequest.objects.filter(pk=request_id).first()
    if request is None:
        raise Problem("not_found", "該当する登録申請はありません。", "No such registration request.")
    if request.status != RequestStatus.PENDING:
        raise Problem(
            "not_pending", "この申請はすでに処理されています。", "This request has already been dealt with."
        )
    if request.author_id == reviewer.pk:
        record(
            Action.DENIED,
            purpose=PURPOSE_REGISTER,
            outcome=Outcome.DENIED,
            object_type="mynumber_request",
            subjects=[request.person_id],
            detail={"request": request.pk, "reason": "four_eyes"},
        )
        raise Problem(
            "four_eyes",
            "自分で入力した個人番号は確認できません。別の職員が確認してください。",
            "You cannot confirm a number you entered yourself: another staff member must confirm it.",
        )
    return request


def confirm_registration(request_id: int, *, reviewer) -> MyNumberRecord:
    _reviewable(request_id, reviewer)  # a refusal stays in the log
    with transaction.atomic():
        request = MyNumberRequest.objects.select_for_update().get(pk=request_id)
        _reviewable(request_id, reviewer)
        number = vault.open_pending(request.person_id, request.data_key, request.nonce, request.ciphertext)
        stored = vault.store_number(
            request.person,
            number,
            registered_by=reviewer,
            identity_check=request.identity_check,
            identity_checked_by=request.author,
        )
        request.status = RequestStatus.CONFIRMED
        request.reviewer, request.reviewed_at = reviewer, timezone.now()
        request.ciphertext, request.nonce = b"", b""  # the number now lives in the vault only
        request.save()
        record(
            Action.CHANGE,
            purpose=PURPOSE_REGISTER,
            object_type="mynumber",
            subjects=[request.person_id],
            detail={"request": request.pk, "author": request.author.get_username()},
        )
    return stored


def reject_registration(request_id: int, *, reviewer, reason: str) -> MyNumberRequest:
    reason = (reason or "").strip()[:500]
    if not reason:
        raise Problem(
            "required", "差戻しの理由を入力してください。", "Enter the reason for rejecting.", "reason"
        )
    _reviewable(request_id, reviewer)
    with transaction.atomic():
        request = MyNumberRequest.objects.select_for_update().get(pk=request_id)
        request.status = RequestStatus.REJECTED
        request.reviewer, request.reviewed_at, request.rejection_reason = reviewer, timezone.now(), reason
        request.ciphertext, request.nonce = b"", b""
        request.save()
        record(
            Action.CHANGE,
            purpose=PURPOSE_REGISTER,
            object_type="mynumber_request",
            subjects=[request.person_id],
            detail={"request": request.pk, "rejected": True},
        )
    return request


def pending_requests() -> list[MyNumberRequest]:
    requests = list(
        MyNumberRequest.objects.filter(status=RequestStatus.PENDING)
        .select_related("person", "author")
        .order_by("pk")
    )
    record(
        Action.VIEW,
        purpose=PURPOSE_REGISTER,
        object_type="mynumber_request",
        subjects=[r.person_id for r in requests],
        result_count=len(requests),
    )
    return requests


# Use ----------------------------------------------------------------------------------------------------


def reveal(person_id: int, *, purpose: str) -> str:
    """The person's number, shown once to a number-use clerk for a stated purpose (an audit event)."""
    purpose = _purpose(purpose)
    person = _person(person_id)
    stored = MyNumberRecord.objects.select_related("data_key").filter(person=person).first()
    if stored is None:
        raise Problem(
            "not_registered", "個人番号は登録されていません。", "No My Number is registered for this person."
        )
    record(
        Action.VIEW,
        purpose=PURPOSE_REVEAL,
        object_type="mynumber",
        subjects=[person.pk],
        detail={"stated_purpose": purpose},
    )
    return vault.decrypt_number(stored)


def find_by_number(raw_number: str, *, purpose: str) -> Person | None:
    """Exact look-up by number (number-use work only); the event records the search, not the number."""
    purpose = _purpose(purpose)
    try:
        number = validate_mynumber(raw_number)
    except Problem as problem:
        record(
            Action.SEARCH,
            purpose=PURPOSE_SEARCH,
            outcome=Outcome.FAILED,
            object_type="mynumber",
            criteria={"mynumber": REDACTED, "stated_purpose": purpose, "problem": problem.code},
            result_count=0,
        )
        raise
    person = vault.find_person_by_number(number)
    record(
        Action.SEARCH,
        purpose=PURPOSE_SEARCH,
        object_type="mynumber",
        subjects=[person.pk] if person else [],
        criteria={"mynumber": REDACTED, "stated_purpose": purpose},
        result_count=1 if person else 0,
    )
    return person


def number_for(person_id: int, *, purpose: str) -> str | None:
    """For other apps' number-use work (exchange, certificates with the number): audited, purpose named."""
    purpose = _purpose(purpose)
    stored = MyNumberRecord.objects.select_related("data_key").filter(person_id=person_id).first()
    record(
        Action.VIEW,
        purpose=purpose,
        object_type="mynumber",
        subjects=[person_id],
        result_count=1 if stored else 0,
    )
    return vault.decrypt_number(stored) if stored else None


def register_issued_numbers(pairs: list[tuple[int, str]]) -> int:
    """Numbers from the national issuer for new residents (出生, 転入): stored without a counter check."""
    have = dict(
        MyNumberRecord.objects.filter(person_id__in=[p for p, _ in pairs]).values_list(
            "person_id", "blind_index"
        )
    )
    # A person who already has a number keeps it; if the issuer says otherwise, a clerk must look.
    mismatched = [pid for pid, n in pairs if pid in have and vault.blind_index(n) != have[pid]]
    if mismatched:
        record(
            Action.SYSTEM,
            purpose=PURPOSE_SYSTEM,
            outcome=Outcome.FAILED,
            object_type="mynumber",
            subjects=mismatched,
            detail={"mismatch": len(mismatched)},
        )
    pairs = [(pid, n) for pid, n in pairs if pid not in have]
    if not pairs:
        return 0
    written = vault.store_numbers(pairs)
    record(
        Action.CREATE,
        purpose=PURPOSE_SYSTEM,
        object_type="mynumber",
        subjects=[pid for pid, _ in pairs],
        result_count=written,
    )
    return written

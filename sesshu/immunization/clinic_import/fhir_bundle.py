"""A FHIR R4 Bundle of JP Core Immunization resources from a clinic system, read into the clinic file's
rows (docs/fhir-import.md), so that it takes the same checks, matching, preview and review as the CSV.

Each Immunization entry becomes one row, ``(its position in Bundle.entry counted from 1, {layout column
key: text})``, with the person's 5情報 taken from the Patient it refers to. What the row's checks can
say (an unknown vaccine, lot or clinic, an unreadable date, a missing dose number, a 予診のみ without
reason) is left to them, so it shows in the preview as an error row. What makes the Bundle itself
unusable is refused here for the whole file, naming the entry: not JSON or not UTF-8, not a Bundle,
a resource fhir.resources (R4B models, as the export) does not accept, a patient reference that does
not lead to a Patient in the Bundle, a vaccineCode with no coding in an accepted system, a deletion or
an ``entered-in-error`` Immunization (this path only adds doses), no Immunization at all.

Messages never quote the resources' values (names, birth dates): only entry positions, element paths
and codes.
"""

import json
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from pydantic import ValidationError

from sesshu.core.problems import Problem, ProblemList
from sesshu.core.text import is_kana, is_latin

from .. import fhir
from ..certificates.shc import CVX, CVX_CODES, JP_VACCINE_SYSTEM
from ..models import Product
from .reading import MAX_BYTES, MAX_ROWS, too_large

# 医療機関コード (10 digits): JP Core's identifier system (what the export writes), its older spelling,
# and the register's own system of earlier exports.
JP_INSTITUTION_NUMBER = fhir.CLINIC_CODE
CLINIC_SYSTEMS = (
    JP_INSTITUTION_NUMBER,
    "http://jpfhir.jp/fhir/Common/IdSystem/insurance-medical-institution-no",
    "urn:sesshu:clinic",
)
# HOT9 (MEDIS): JP Core v1's URI (what the export writes), its OID, and the OID earlier exports wrote.
HOT9_SYSTEMS = (fhir.HOT9, "urn:oid:1.2.392.100495.20.2.74", "urn:oid:1.2.392.200119.4.403.1")
CVX_TO_VACCINE = {cvx: code for code, cvx in CVX_CODES.items()}
VACCINE_SYSTEMS = (JP_VACCINE_SYSTEM, CVX, *HOT9_SYSTEMS)
ADMINISTERING = "AP"  # v2-0443 Administering Provider: the vaccinating doctor
MAX_PROBLEMS = 20  # entries named in one refusal; the rest are counted
GENDER = {"male": "M", "female": "F"}
# Codes bound "required" in R4 that fhir.resources does not check itself.
REQUIRED_CODES = {
    "Immunization": (("status", ("completed", "not-done", "entered-in-error")),),
    "Patient": (("gender", ("male", "female", "other", "unknown")),),
}
MILLILITRES = {"ml", "milliliter", "millilitre", "ミリリットル"}
_TYPE_ID = re.compile(r"(?:^|/)([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def read_bundle(data: bytes) -> tuple[str, list[tuple[int, dict[str, str]]]]:
    """(encoding, [(entry position, {column key: text})]). Raises ProblemList for the whole file."""
    if len(data) > MAX_BYTES:
        raise ProblemList([too_large(len(data))])
    document = _load(data)
    entries = _check_bundle(document)
    problems: list[Problem] = []
    index = _Index()
    immunizations: list[tuple[int, dict]] = []
    for position, entry in enumerate(entries, start=1):
        resource = entry.get("resource")
        problem = _check_entry(position, entry, resource)
        if problem is not None:
            problems.append(problem)
            continue
        if resource is None:
            continue
        index.add(entry.get("fullUrl"), resource)
        if resource["resourceType"] == "Immunization":
            immunizations.append((position, resource))
    _raise(problems)
    if not immunizations:
        raise ProblemList(
            [
                Problem(
                    "no_immunizations",
                    "BundleにImmunizationリソースがありません。",
                    "The Bundle has no Immunization resource.",
                    "file",
                )
            ]
        )
    products = _products_by_hot_code(immunizations)
    rows = []
    for position, resource in immunizations:
        try:
            rows.append((position, _row(position, resource, index, products)))
        except Problem as problem:
            problems.append(problem)
    _raise(problems)
    return "utf-8", rows


# The file ------------------------------------------------------------------------------------------


def _file_problem(code: str, ja: str, en: str) -> ProblemList:
    return ProblemList([Problem(code, ja, en, "file")])


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _load(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_problem(
            "wrong_encoding",
            "文字コードを読み取れません。FHIRのJSONはUTF-8で送ってください。",
            "The file's encoding cannot be read: a FHIR JSON file must be UTF-8.",
        ) from None
    try:
        # Decimals as Decimal (0.5 mL stays 0.5), and NaN/Infinity refused (they are not JSON).
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise _file_problem(
            "malformed_json",
            f"JSONとして読めません（{exc.lineno}行目 {exc.colno}文字目）。",
            f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}.",
        ) from None
    except (ValueError, RecursionError):  # NaN, a 5,000-digit number, nesting deeper than Python's stack
        raise _file_problem(
            "malformed_json",
            "JSONとして読めません（数値または入れ子が不正です）。",
            "The file is not valid JSON (a number or the nesting is not acceptable).",
        ) from None


def _check_bundle(document) -> list[dict]:
    """The Bundle's entries, after checking the Bundle itself (without its resources) with fhir.resources."""
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        raise _file_problem(
            "not_a_bundle",
            "FHIRのBundleではありません（resourceType が Bundle のJSONを送ってください）。",
            "This is not a FHIR Bundle (send JSON whose resourceType is Bundle).",
        )
    entries = document.get("entry")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise _file_problem(
            "invalid_bundle",
            "Bundle.entry が配列ではありません。",
            "Bundle.entry is not an array.",
        )
    if len(entries) > MAX_ROWS:
        raise _file_problem(
            "too_many_rows",
            f"entryの数が上限（{MAX_ROWS:,}件）を超えています。Bundleを分けてください。",
            f"More than {MAX_ROWS:,} entries: split the Bundle.",
        )
    shell = {**document, "entry": [_without_resource(e) for e in entries]} if entries else document
    from fhir.resources.R4B.bundle import Bundle

    try:
        Bundle.model_validate(shell)
    except ValidationError as exc:
        raise ProblemList([_invalid("invalid_bundle", None, "Bundle", exc)]) from None
    return entries


def _without_resource(entry):
    return {k: v for k, v in entry.items() if k != "resource"} if isinstance(entry, dict) else entry


def _raise(problems: list[Problem]) -> None:
    if not problems:
        return
    shown = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        shown.append(
            Problem("more_problems", f"ほかに{more}件の問題があります。", f"{more} more problems.", "file")
        )
    raise ProblemList(shown)


# Entries --------------------------------------------------------------------------------------------


def _where(position: int | None, resource_type: str = "") -> tuple[str, str]:
    """How a message names an entry: its position counted from 1 and its index in Bundle.entry."""
    if position is None:
        return "Bundle", "the Bundle"
    kind = f" {resource_type}" if resource_type else ""
    return (
        f"{position}番目のentry{kind}（Bundle.entry[{position - 1}]）",
        f"entry {position}{kind} (Bundle.entry[{position - 1}])",
    )


def _entry_problem(code: str, position: int | None, resource_type: str, ja: str, en: str) -> Problem:
    where_ja, where_en = _where(position, resource_type)
    return Problem(code, f"{where_ja}: {ja}", f"{where_en}: {en}", "file")


def _invalid(code: str, position: int | None, resource_type: str, exc: ValidationError) -> Problem:
    """fhir.resources' first complaint, by element path and error type; the input value is not quoted."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0] if errors else {"loc": (), "msg": str(exc)}
    path = ".".join(str(part) for part in first.get("loc", ())) or resource_type
    reason = str(first.get("msg", ""))[:160]
    more = f" ほか{len(errors) - 1}件" if len(errors) > 1 else ""
    more_en = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return _entry_problem(
        code,
        position,
        resource_type,
        f"FHIR R4として正しくありません（{path}）{more}。",
        f"not valid FHIR R4 at {path}: {reason}{more_en}",
    )


def _check_entry(position: int, entry, resource) -> Problem | None:
    """A problem that makes the entry unusable, or None (then ``resource`` is a valid resource or None)."""
    method = ((entry.get("request") or {}).get("method") or "POST").upper()
    if method not in ("POST", "PUT"):
        return _entry_problem(
            "not_an_addition",
            position,
            "",
            f"request.method {method[:10]} は受け付けません。"
            "取込は接種の追加だけです（削除・訂正は市へ連絡してください）。",
            f"request.method {method[:10]} is not accepted: an import only adds doses "
            "(ask the city to delete or correct one).",
        )
    if resource is None:
        return None
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return _entry_problem(
            "invalid_resource",
            position,
            "",
            "resource に resourceType がありません。",
            "the resource has no resourceType.",
        )
    resource_type = resource["resourceType"]
    model = _model(resource_type)
    if model is None:
        return _entry_problem(
            "unknown_resource_type",
            position,
            "",
            f"resourceType「{resource_type[:40]}」はFHIR R4のリソースではありません。",
            f"resourceType “{resource_type[:40]}” is not a FHIR R4 resource.",
        )
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        return _invalid("invalid_resource", position, resource_type, exc)
    except (KeyError, ValueError, TypeError, RecursionError):
        # fhir.resources raises KeyError for an unknown resourceType inside ``contained``.
        return _entry_problem(
            "invalid_resource",
            position,
            resource_type,
            "FHIR R4として正しくありません（contained などに不明なリソースがあります）。",
            "not valid FHIR R4 (an unknown resource inside, e.g. in contained).",
        )
    for element, allowed in REQUIRED_CODES.get(resource_type, ()):
        value = resource.get(element)
        if value is not None and value not in allowed:
            return _entry_problem(
                "invalid_resource",
                position,
                resource_type,
                f"{element} は {' / '.join(allowed)} のどれかにしてください。",
                f"{element} must be one of {', '.join(allowed)}.",
            )
    if resource_type == "Immunization" and resource.get("status") == "entered-in-error":
        return _entry_problem(
            "entered_in_error",
            position,
            resource_type,
            "status が entered-in-error です。取消は取込では受け付けません（市へ連絡してください）。",
            "status is entered-in-error: a retraction cannot be imported (tell the city).",
        )
    return None


def _model(resource_type: str):
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.resource import Resource

    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, ValueError):
        return None
    return model if isinstance(model, type) and issubclass(model, Resource) else None


class _Index:
    """The Bundle's resources by fullUrl and by ``Type/id``, to follow references."""

    def __init__(self):
        self.by_url: dict[str, dict] = {}

    def add(self, full_url, resource: dict) -> None:
        if isinstance(full_url, str) and full_url:
            self.by_url.setdefault(full_url, resource)
        if isinstance(resource.get("id"), str):
            self.by_url.setdefault(f"{resource['resourceType']}/{resource['id']}", resource)

    def resolve(self, reference, container: dict) -> dict | None:
        if not isinstance(reference, str) or not reference:
            return None
        if reference.startswith("#"):
            return next(
                (r for r in container.get("contained") or () if r.get("id") == reference[1:]),
                None,
            )
        found = self.by_url.get(reference)
        if found is None and (match := _TYPE_ID.search(reference)):
            found = self.by_url.get(f"{match[1]}/{match[2]}")
        return found


# One Immunization → one row -------------------------------------------------------------------------


def _products_by_hot_code(immunizations: list[tuple[int, dict]]) -> dict[str, str]:
    """HOT9 code → vaccine code, from the product master (one query for the Bundle)."""
    codes = {
        str(c.get("code"))
        for _, r in immunizations
        for c in _codings(r.get("vaccineCode"))
        if c.get("system") in HOT9_SYSTEMS and c.get("code")
    }
    if not codes:
        return {}
    return dict(Product.objects.filter(hot_code__in=sorted(codes)).values_list("hot_code", "vaccine_id"))


def _vaccine(position: int, resource: dict, products: dict[str, str]) -> str:
    """The vaccine cell: our code, or the code as sent when the master does not know it (a row error)."""
    found: list[str] = []  # vaccine codes, in order of preference
    unknown: list[str] = []
    ranked = sorted(
        (c for c in _codings(resource.get("vaccineCode")) if c.get("system") in VACCINE_SYSTEMS),
        key=lambda c: (c["system"] != JP_VACCINE_SYSTEM, c["system"] not in HOT9_SYSTEMS),
    )
    for coding in ranked:
        code = str(coding.get("code") or "").strip()
        if not code:
            continue
        system = coding["system"]
        if system == JP_VACCINE_SYSTEM:
            found.append(code)
        elif system in HOT9_SYSTEMS and code in products:
            found.append(products[code])
        elif system in HOT9_SYSTEMS:
            unknown.append(f"HOT9 {code}")
        elif code in CVX_TO_VACCINE:
            found.append(CVX_TO_VACCINE[code])
        else:
            unknown.append(f"CVX {code}")
    distinct = {c.upper() for c in found}
    if len(distinct) > 1:
        raise _entry_problem(
            "conflicting_vaccine_codes",
            position,
            "Immunization",
            f"vaccineCode のコードが別々のワクチンを指しています（{'、'.join(sorted(distinct))[:60]}）。",
            f"the vaccineCode codings name different vaccines ({', '.join(sorted(distinct))[:60]}).",
        )
    if found:
        return found[0]
    if unknown:
        return unknown[0]
    raise _entry_problem(
        "no_accepted_vaccine_code",
        position,
        "Immunization",
        "vaccineCode に受け付けるコード体系（urn:sesshu:vaccine、HOT9、CVX）のコードがありません。",
        "vaccineCode has no coding in an accepted system (urn:sesshu:vaccine, HOT9, CVX).",
    )


def _row(position: int, resource: dict, index: _Index, products: dict[str, str]) -> dict[str, str]:
    patient = index.resolve((resource.get("patient") or {}).get("reference"), resource)
    if patient is None or patient.get("resourceType") != "Patient":
        raise _entry_problem(
            "patient_not_in_bundle",
            position,
            "Immunization",
            "patient の参照先のPatientがBundleにありません（Patientを同じBundleに入れてください）。",
            "the Patient that patient refers to is not in the Bundle (send the Patient in the same Bundle).",
        )
    cells = _person(patient)
    cells["vaccine"] = _vaccine(position, resource, products)
    cells["vaccinated_on"] = _day(resource.get("occurrenceDateTime") or resource.get("occurrenceString"))
    cells["ticket_number"] = _identifier(resource.get("identifier") or (), (fhir.TICKET_NUMBER,))
    cells["lot_number"] = str(resource.get("lotNumber") or "")
    cells["volume_ml"] = _volume(resource.get("doseQuantity"))
    protocol = next(iter(resource.get("protocolApplied") or ()), {})
    dose = protocol.get("doseNumberPositiveInt", protocol.get("doseNumberString"))
    cells["dose_number"] = "" if dose is None else str(dose)
    if resource.get("status") == "not-done":
        cells["screening_only"] = "1"
        cells["not_vaccinated_reason"] = _concept_text(resource.get("statusReason"))
    cells["legal_category"] = _code_in(resource.get("programEligibility") or (), fhir.LEGAL_CATEGORY)
    cells["payment"] = _code_in([resource.get("fundingSource") or {}], fhir.PAYMENT)
    cells["remarks"] = "\n".join(str(n["text"]) for n in resource.get("note") or () if n.get("text"))
    cells.update(_performers(resource, index))
    return cells


def _person(patient: dict) -> dict[str, str]:
    """The 5情報 as the CSV's columns: kanji and kana name, birth date, sex, address."""
    kanji = kana = ""
    for name in patient.get("name") or ():
        if name.get("use") in ("old", "maiden"):
            continue
        text = _name_text(name)
        extensions = name.get("extension") or ()
        representation = next(
            (e.get("valueCode") for e in extensions if e.get("url") == fhir.NAME_REPRESENTATION), None
        )
        if representation == "SYL" or (representation is None and is_kana(text)):
            kana = kana or text
        elif representation == "IDE" or (representation is None and text and not is_latin(text)):
            kanji = kanji or text
    address = next((a for a in patient.get("address") or () if a.get("use") != "old"), {})
    address_text = str(
        address.get("text")
        or "".join(str(address.get(k) or "") for k in ("state", "city", "district"))
        + "".join(address.get("line") or ())
    )
    return {
        "name_kana": kana,
        "name": kanji,
        "birth_date": str(patient.get("birthDate") or ""),
        "sex": GENDER.get(str(patient.get("gender") or ""), ""),
        "address": address_text,
    }


def _day(value) -> str:
    """A dateTime's day in Japan (``2021-04-10T23:30:00Z`` is 2021-04-11); partial dates stay as sent."""
    text = str(value or "").strip()
    if "T" not in text:
        return text
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.date().isoformat()


def _volume(quantity) -> str:
    """mL as text; litres converted; another unit is left for the row's check (“…数（mL）で…”)."""
    if not quantity or quantity.get("value") is None:
        return ""
    try:
        value = Decimal(str(quantity["value"]))
    except InvalidOperation:
        return str(quantity["value"])
    unit = str(quantity.get("code") or quantity.get("unit") or "mL").strip()
    if unit.lower() in MILLILITRES:
        return str(value)
    if unit in ("L", "l"):
        return str(value * 1000)
    return f"{value} {unit[:10]}"


def _concept_text(concept) -> str:
    if not concept:
        return ""
    if concept.get("text"):
        return str(concept["text"])
    coding = next(iter(_codings(concept)), {})
    return str(coding.get("display") or coding.get("code") or "")


def _code_in(concepts, system: str) -> str:
    codes = (str(c.get("code") or "") for k in concepts for c in _codings(k) if c.get("system") == system)
    return next(codes, "")


def _codings(concept) -> list[dict]:
    return (concept or {}).get("coding") or []


def _identifier(identifiers, systems: tuple[str, ...]) -> str:
    return next((str(i.get("value") or "") for i in identifiers if i.get("system") in systems), "")


def _name_text(name: dict) -> str:
    """A HumanName as one text, family name first (the Japanese order)."""
    return str(name.get("text") or " ".join([name.get("family") or "", *(name.get("given") or ())])).strip()


def _performers(resource: dict, index: _Index) -> dict[str, str]:
    """The clinic (an organisation with a 医療機関コード) and the vaccinating doctor (function AP)."""
    clinic = doctor = ""
    for performer in resource.get("performer") or ():
        actor = performer.get("actor") or {}
        target = index.resolve(actor.get("reference"), resource) or {}
        kind = target.get("resourceType") or actor.get("type") or ""
        functions = {c.get("code") for c in _codings(performer.get("function"))}
        code = _identifier([actor.get("identifier") or {}, *(target.get("identifier") or ())], CLINIC_SYSTEMS)
        if code and kind in ("", "Organization"):
            clinic = clinic or code
        elif ADMINISTERING in functions or (kind == "Practitioner" and not functions):
            doctor = doctor or _practitioner_name(target) or str(actor.get("display") or "")
    return {"clinic": clinic, "vaccinating_doctor_name": doctor}


def _practitioner_name(practitioner: dict) -> str:
    for name in practitioner.get("name") or ():
        text = _name_text(name)
        if text and not is_kana(text):
            return text
    return ""

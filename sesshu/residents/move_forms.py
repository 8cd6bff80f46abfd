"""What each kind of move asks for on screen: the fields, in order, with their labels.

The form posts flat names (``members.0.family_name``, ``changes.given_name``); ``nest()`` turns them
into the structure the move services read, the same one the API takes as JSON.
"""

from django.utils.translation import gettext_lazy as _

from .input import RELATIONSHIPS

DATES = [
    ("effective_on", _("Date of the move"), "date"),
    ("notified_on", _("Date notified"), "date"),
]
LATE = [("late_reason", _("Reason for late notification (if more than 14 days)"), "text")]
PERSON = [
    ("family_name", _("Family name"), "text"),
    ("given_name", _("Given name"), "text"),
    ("family_name_kana", _("Family name (kana)"), "text"),
    ("given_name_kana", _("Given name (kana)"), "text"),
    ("birth_date", _("Date of birth"), "date"),
    ("sex", _("Sex"), "sex"),
    ("relationship", _("Relationship to the head"), "relationship"),
    ("nationality", _("Nationality (foreign residents)"), "text"),
    ("residence_status", _("Status of residence"), "text"),
    ("residence_expiry", _("Period of stay ends"), "date"),
    ("juminhyo_code", _("Resident record code"), "text"),
]
MEMBER_ROWS = 4
RESIDENT = [("resident_number", _("Addressee number"), "text")]
RESIDENTS = [("resident_numbers", _("Addressee numbers (comma separated)"), "text")]
NEW_HEAD = [("new_head", _("New head (addressee number)"), "text")]
ADDRESS = [("address", _("Address"), "text"), ("postal_code", _("Postal code"), "text")]
MOVE_IN = [
    *ADDRESS,
    ("previous_address", _("Previous address"), "text"),
    ("certificate_issuer", _("Move-out certificate issued by"), "text"),
    ("household_number", _("Join household (number; empty for a new household)"), "text"),
]
CORRECTABLE_ON_SCREEN = [
    ("changes.family_name", _("Family name"), "text"),
    ("changes.given_name", _("Given name"), "text"),
    ("changes.family_name_kana", _("Family name (kana)"), "text"),
    ("changes.given_name_kana", _("Given name (kana)"), "text"),
    ("changes.birth_date", _("Date of birth"), "date"),
    ("changes.sex", _("Sex"), "sex"),
    ("changes.postal_code", _("Postal code"), "text"),
    ("changes.registered_domicile", _("Registered domicile"), "text"),
    ("changes.domicile_head", _("Head of the family register"), "text"),
]

KIND_FIELDS = {
    "move_in": [*DATES, *MOVE_IN, *LATE],
    "ex_officio_entry": [*DATES, *MOVE_IN, ("reason", _("Reason"), "text")],
    "birth": [*DATES, ("household_number", _("Household number"), "text"), *PERSON, *LATE],
    "death": [*DATES, *RESIDENT, *NEW_HEAD, *LATE],
    "move_within": [*DATES, *RESIDENTS, *ADDRESS, *NEW_HEAD, *LATE],
    "move_out_planned": [
        *DATES,
        *RESIDENTS,
        ("destination_address", _("Destination"), "text"),
        ("planned_on", _("Planned date of the move"), "date"),
    ],
    "move_out_confirmed": [
        *DATES,
        *RESIDENTS,
        ("new_municipality", _("New municipality"), "text"),
        *NEW_HEAD,
    ],
    "head_change": [*DATES, ("household_number", _("Household number"), "text"), *NEW_HEAD],
    "household_split": [
        *DATES,
        *RESIDENTS,
        *NEW_HEAD,
        ("remaining_head", _("Head of the household left behind (if the head leaves)"), "text"),
    ],
    "household_merge": [
        *DATES,
        ("household_number", _("Household that joins"), "text"),
        ("into_household_number", _("Household it joins"), "text"),
    ],
    "name_change": [
        *DATES,
        *RESIDENT,
        *PERSON[:4],
        ("keep_former_surname", _("Record the former surname (旧氏)"), "flag"),
    ],
    "ex_officio_correction": [*DATES, *RESIDENT, ("reason", _("Reason"), "text"), *CORRECTABLE_ON_SCREEN],
    "ex_officio_deletion": [*DATES, *RESIDENT, ("reason", _("Reason"), "text"), *NEW_HEAD],
    "residence_renewal": [
        *DATES,
        *RESIDENT,
        ("residence_status", _("Status of residence"), "text"),
        ("residence_period", _("Period of stay"), "text"),
        ("residence_expiry", _("Period of stay ends"), "date"),
        ("residence_card_number", _("Residence card number"), "text"),
    ],
    "residence_expiry": [*DATES, *RESIDENT, *NEW_HEAD],
}
KINDS_WITH_MEMBERS = {"move_in", "ex_officio_entry"}


def nest(post) -> dict:
    """Flat form names to the move services' structure; empty member rows and corrections dropped."""
    data: dict = {}
    members: dict[int, dict] = {}
    for key in post:
        if key == "csrfmiddlewaretoken":
            continue
        value = post.get(key, "")
        if key.startswith("members."):
            _, index, name = key.split(".", 2)
            if index.isdigit() and int(index) < MEMBER_ROWS:
                members.setdefault(int(index), {})[name] = value
        elif key.startswith("changes."):
            if str(value).strip():
                data.setdefault("changes", {})[key.split(".", 1)[1]] = value
        else:
            data[key] = value
    rows = [
        members[i]
        for i in sorted(members)
        if any(str(v).strip() for k, v in members[i].items() if k != "is_head")
    ]
    if rows:
        data["members"] = rows
    return data


RELATIONSHIP_CHOICES = sorted(RELATIONSHIPS)

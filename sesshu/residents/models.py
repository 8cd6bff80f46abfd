"""住民基本台帳: households, residents, their history, and the moves (異動) that change them.

Nothing is overwritten. Every confirmed move writes a new ``ResidentRevision`` for each resident it
touches; a revision is in force from its ``valid_from`` date (the date of the move) until the next one.
``Resident`` keeps the resident's identity and, for fast lists and search, a copy of the revision in
force today. A move waits as pending until a second staff member confirms it (four-eyes); only then
are revisions written and events published to the outbox (``RegisterEvent``) in the same transaction.

The items are those of the 住民基本台帳ファイル in the Tokorozawa assessment's 別添2. The My Number
(item 22) is not here: it lives in the addressee vault.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class ResidentStatus(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")
    DELETED = "deleted", _("Deleted ex officio")  # 職権消除, 在留期間満了


class Household(models.Model):
    """A household (世帯) is its number; who belongs to it, and where it lives, is in the revisions."""

    household_number = models.CharField("世帯番号", max_length=12, unique=True)
    created_on = models.DateField("世帯となった日", null=True, blank=True)

    class Meta:
        verbose_name = "世帯 (household)"
        permissions = [("view_register", "住民記録の照会 (read the resident register)")]

    def __str__(self) -> str:
        return self.household_number


class RegisterRecord(models.Model):
    """Every item of a resident's 住民票, shared by the current copy and each revision."""

    relationship = models.CharField("続柄", max_length=20)
    is_head = models.BooleanField("世帯主", default=False)
    family_name = models.CharField("氏", max_length=50)
    given_name = models.CharField("名", max_length=50)
    family_name_kana = models.CharField("氏（カナ）", max_length=100)
    given_name_kana = models.CharField("名（カナ）", max_length=100)
    latin_name = models.CharField("英字氏名", max_length=100, blank=True)
    alias = models.CharField("通称", max_length=100, blank=True)
    alias_kana = models.CharField("通称（カナ）", max_length=100, blank=True)
    former_surname = models.CharField("旧氏", max_length=50, blank=True)
    former_surname_kana = models.CharField("旧氏（カナ）", max_length=100, blank=True)
    birth_date = models.DateField("生年月日")
    sex = models.CharField("性別", max_length=1, choices=Sex.choices)
    became_resident_on = models.DateField("住民となった日")
    became_resident_notified_on = models.DateField("住民となった届出日", null=True, blank=True)
    became_resident_reason = models.CharField("住民となった事由", max_length=20)  # 出生, 転入, 職権記載
    postal_code = models.CharField("郵便番号", max_length=8, blank=True)
    address = models.CharField("住所", max_length=200)
    address_since = models.DateField("住所を定めた日", null=True, blank=True)
    address_notified_on = models.DateField("住所を定めた届出日", null=True, blank=True)
    address_reason = models.CharField("住定事由", max_length=20, blank=True)  # 出生, 転入, 転居, ...
    previous_address = models.CharField("前住所", max_length=200, blank=True)
    moved_to_address = models.CharField("転出先", max_length=200, blank=True)
    move_out_planned_on = models.DateField("転出予定日", null=True, blank=True)
    registered_domicile = models.CharField("本籍", max_length=200, blank=True)
    domicile_head = models.CharField("筆頭者", max_length=100, blank=True)
    remarks = models.TextField("備考", blank=True)
    status = models.CharField(max_length=12, choices=ResidentStatus.choices, default=ResidentStatus.RESIDENT)
    left_on = models.DateField("消除日", null=True, blank=True)
    left_notified_on = models.DateField("消除届出日", null=True, blank=True)
    left_reason = models.CharField("消除事由", max_length=20, blank=True)
    nationality = models.CharField("国籍", max_length=50, blank=True)  # blank: Japanese national
    became_foreign_resident_on = models.DateField("外国人住民となった日", null=True, blank=True)
    residence_status = models.CharField("在留資格", max_length=50, blank=True)
    residence_period = models.CharField("在留期間", max_length=20, blank=True)
    residence_expiry = models.DateField("在留期間等満了日", null=True, blank=True)
    residence_card_number = models.CharField("在留カード等の番号", max_length=12, blank=True)
    # 資格 (eligibility) the register records for other divisions.
    national_health_insurance = models.BooleanField("国保", default=False)
    national_pension = models.BooleanField("国民年金", default=False)
    child_allowance = models.BooleanField("児童手当", default=False)
    long_term_care = models.BooleanField("介護保険", default=False)
    late_elderly_medical = models.BooleanField("後期高齢者医療", default=False)
    # 支援措置 (DV, stalking, abuse): the address is withheld from staff without the right.
    support_measure = models.BooleanField("支援措置", default=False)

    class Meta:
        abstract = True

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}".strip()

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}".strip()

    @property
    def is_foreign(self) -> bool:
        return bool(self.nationality)


# The register items a revision copies from one state to the next (everything but identity).
RECORD_FIELDS = [f.name for f in RegisterRecord._meta.local_fields]


class Resident(RegisterRecord):
    """A person in the register: identity, plus the revision in force today (kept by the move service)."""

    resident_number = models.CharField("宛名番号", max_length=12, unique=True)
    juminhyo_code = models.CharField("住民票コード", max_length=11, unique=True, null=True, blank=True)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members")
    # Normalized keys for the register's own search (sesshu.core.text).
    kana_key = models.CharField(max_length=200, db_index=True, default="")
    kanji_key = models.CharField(max_length=100, db_index=True, default="")
    address_key = models.CharField(max_length=200, default="")

    class Meta:
        verbose_name = "住民 (resident)"
        indexes = [models.Index(fields=["household", "is_head"]), models.Index(fields=["birth_date"])]

    def __str__(self) -> str:
        return self.resident_number


class MoveKind(models.TextChoices):
    MOVE_IN = "move_in", _("Move-in (転入)")
    MOVE_WITHIN = "move_within", _("Move within the city (転居)")
    MOVE_OUT_PLANNED = "move_out_planned", _("Move-out notified (転出予定)")
    MOVE_OUT_CONFIRMED = "move_out_confirmed", _("Move-out confirmed (転出確定)")
    BIRTH = "birth", _("Birth (出生)")
    DEATH = "death", _("Death (死亡)")
    HEAD_CHANGE = "head_change", _("Change of household head (世帯主変更)")
    HOUSEHOLD_SPLIT = "household_split", _("Household split (世帯分離)")
    HOUSEHOLD_MERGE = "household_merge", _("Household merge (世帯合併)")
    NAME_CHANGE = "name_change", _("Change of name (氏名変更)")
    EX_OFFICIO_ENTRY = "ex_officio_entry", _("Entry ex officio (職権記載)")
    EX_OFFICIO_CORRECTION = "ex_officio_correction", _("Correction ex officio (職権修正)")
    EX_OFFICIO_DELETION = "ex_officio_deletion", _("Deletion ex officio (職権消除)")
    RESIDENCE_RENEWAL = "residence_renewal", _("Residence period renewed (在留期間更新)")
    RESIDENCE_EXPIRY = "residence_expiry", _("Residence period expired (在留期間満了)")


class MoveStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class Move(models.Model):
    """One notification or ex-officio act (届出/職権), waiting for or past its second person's check."""

    kind = models.CharField(max_length=30, choices=MoveKind.choices)
    status = models.CharField(max_length=12, choices=MoveStatus.choices, default=MoveStatus.PENDING)
    effective_on = models.DateField("異動日")
    notified_on = models.DateField("届出日")
    # The validated, normalized input (what the form or API sent), and the residents it concerns.
    data = models.JSONField(default=dict)
    resident_numbers = models.JSONField(default=list)
    summary = models.CharField(max_length=200)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = "異動 (move)"
        indexes = [models.Index(fields=["status", "created_at"])]
        permissions = [("confirm_move", "異動の確認 (confirm a move entered by someone else)")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class ResidentRevision(RegisterRecord):
    """A resident's 住民票 as it stood from ``valid_from`` on: one per resident per confirmed move."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="revisions")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveIntegerField()
    valid_from = models.DateField()
    recorded_at = models.DateTimeField()
    move = models.ForeignKey(Move, null=True, blank=True, on_delete=models.PROTECT, related_name="revisions")

    class Meta:
        verbose_name = "住民票の履歴 (revision)"
        constraints = [models.UniqueConstraint(fields=["resident", "seq"], name="revision_seq_unique")]
        indexes = [
            models.Index(fields=["resident", "valid_from", "seq"]),
            models.Index(fields=["household", "valid_from"]),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id}@{self.valid_from}#{self.seq}"


class EventKind(models.TextChoices):
    MOVED_IN = "moved_in", "転入"
    MOVED_WITHIN = "moved_within", "転居"
    MOVED_OUT = "moved_out", "転出"
    BORN = "born", "出生"
    DIED = "died", "死亡"
    RENAMED = "renamed", "氏名変更"
    HOUSEHOLD_CHANGED = "household_changed", "世帯変更"
    CORRECTED = "corrected", "職権修正"
    RESIDENCE_CHANGED = "residence_changed", "在留情報変更"
    DELETED = "deleted", "消除"


class RegisterEvent(models.Model):
    """The outbox (庁内連携): one event per resident per confirmed change, written with the change.

    ``payload`` carries the resident's register items after the change (the same layout as the daily
    feed file), so a consumer needs nothing else. ``source`` and ``external_id`` identify events that
    came from another vendor's register file, so importing a file twice adds nothing.
    """

    kind = models.CharField(max_length=30, choices=EventKind.choices)
    resident_number = models.CharField(max_length=12, db_index=True)
    effective_on = models.DateField()
    payload = models.JSONField()
    move = models.ForeignKey(Move, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    source = models.CharField(max_length=30, default="sesshu")
    external_id = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="register_event_external_unique",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.resident_number}"


class ConsumerOffset(models.Model):
    """How far each consumer of the outbox got (the id of the last event it processed)."""

    consumer = models.CharField(max_length=100, unique=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.consumer}@{self.last_event_id}"


class NumberCounter(models.Model):
    """The last number handed out for 宛名番号 and 世帯番号, locked while the next one is taken."""

    name = models.CharField(max_length=30, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class JuminhyoIssue(models.Model):
    """One certified copy of the resident record (住民票の写し) handed out: the issuance register (交付簿).

    The PDF itself is not kept, only its SHA-256: a copy shown later can be checked against the row,
    and a second copy is a new issue with its own number (there is no re-download).
    """

    class Requester(models.TextChoices):
        SELF = "self", _("The person themself (本人)")
        HOUSEHOLD_MEMBER = "household_member", _("A member of the same household (同一世帯員)")
        AGENT = "agent", _("An agent (代理人)")

    certificate_number = models.CharField("証明書番号", max_length=20, unique=True)
    issued_at = models.DateTimeField("交付日時", db_index=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="juminhyo_issues")
    # The 宛名番号 of the residents printed on the copy, in the order printed.
    resident_numbers = models.JSONField("記載された住民", default=list)
    # include_domicile, include_relationship, include_juminhyo_code, include_mynumber (all booleans).
    options = models.JSONField("記載事項の選択", default=dict)
    as_of = models.DateField("基準日")
    requester_kind = models.CharField("請求者の区分", max_length=20, choices=Requester.choices)
    requester_name = models.CharField("請求者氏名", max_length=100)
    purpose = models.CharField("利用目的", max_length=200)
    pages = models.PositiveSmallIntegerField("枚数")
    sha256 = models.CharField("PDFのSHA-256", max_length=64)

    class Meta:
        verbose_name = "住民票の写しの交付 (certified copy issued)"
        ordering = ["-issued_at", "-id"]
        permissions = [("issue_juminhyo", "住民票の写しの交付 (issue certified copies)")]

    def __str__(self) -> str:
        return self.certificate_number

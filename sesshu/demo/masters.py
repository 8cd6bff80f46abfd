"""The synthetic city's masters: makers, products (販売名), lots, contracted clinics with fee tables, doctors.

Written once and kept (``ensure_masters`` is idempotent): they are not personal data, and a rebuilt
city uses the same clinics. Product and maker names are the ones on the Japanese market; clinic and
doctor names are invented, like everything else in 桜ヶ丘市. Codes are fictional (医療機関コード
starting with 99, which no prefecture has).

The synthetic ledger reads the same tables to fill its records cheaply: per vaccine a product and a
standard volume, per clinic its code and doctor, per vaccine a fee.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sesshu.immunization.models import Clinic, ClinicFee, Doctor, Lot, Maker, Product

from .schedule import ADULT_CLINICS, CHILD_CLINICS, MASS_VACCINATION_SITE

MAKERS = [
    ("BIKEN", "阪大微生物病研究会"),
    ("KMB", "KMバイオロジクス"),
    ("SANOFI", "サノフィ"),
    ("PFIZER", "ファイザー"),
    ("MSD", "MSD"),
    ("GSK", "グラクソ・スミスクライン"),
    ("JBCG", "日本ビーシージー製造"),
    ("DAIICHI", "第一三共"),
    ("DENKA", "デンカ"),
    ("MODERNA", "モデルナ・ジャパン"),
]

# vaccine code -> [(product code, 販売名, maker code, standard volume mL or None)]; the first is the
# one the synthetic ledger names.
PRODUCTS: dict[str, list[tuple[str, str, str, str | None]]] = {
    "DPT-IPV-Hib": [
        ("P-GOBIK", "ゴービック水性懸濁注", "BIKEN", "0.5"),
        ("P-QUINTO", "クイントバック水性懸濁注射用", "KMB", "0.5"),
    ],
    "DPT-IPV": [("P-TETRA", "テトラビック皮下注シリンジ", "BIKEN", "0.5")],
    "Hib": [("P-ACTHIB", "アクトヒブ", "SANOFI", "0.5")],
    "PCV": [
        ("P-PCV20", "プレベナー20水性懸濁注", "PFIZER", "0.5"),
        ("P-PCV15", "バクニュバンス水性懸濁注", "MSD", "0.5"),
    ],
    "HepB": [("P-HEPTA", "ヘプタバックス-II", "MSD", "0.25"), ("P-BIMMUGEN", "ビームゲン注", "KMB", "0.25")],
    "Rota1": [("P-ROTARIX", "ロタリックス内用液", "GSK", "1.5")],
    "Rota5": [("P-ROTATEQ", "ロタテック内用液", "MSD", "2.0")],
    "BCG": [("P-BCG", "乾燥BCGワクチン（経皮用）", "JBCG", None)],
    "MR": [("P-MR-BIKEN", "乾燥弱毒生麻しん風しん混合ワクチン「ビケン」", "BIKEN", "0.5")],
    "VAR": [("P-VAR-BIKEN", "乾燥弱毒生水痘ワクチン「ビケン」", "BIKEN", "0.5")],
    "JE": [("P-JEBIK", "ジェービックV", "BIKEN", "0.5"), ("P-ENCEVAC", "エンセバック皮下注用", "KMB", "0.5")],
    "DT": [("P-DTBIK", "DTビック", "BIKEN", "0.1")],
    "HPV": [
        ("P-SILGARD9", "シルガード9水性懸濁筋注シリンジ", "MSD", "0.5"),
        ("P-GARDASIL", "ガーダシル水性懸濁筋注シリンジ", "MSD", "0.5"),
    ],
    "Flu": [
        ("P-FLU-DENKA", "インフルエンザHAワクチン「生研」", "DENKA", "0.5"),
        ("P-FLU-BIKEN", "インフルエンザHAワクチン「ビケンHA」", "BIKEN", "0.5"),
    ],
    "PPSV23": [("P-PNEUMOVAX", "ニューモバックスNP", "MSD", "0.5")],
    "HZ-live": [("P-VAR-BIKEN-HZ", "乾燥弱毒生水痘ワクチン「ビケン」（帯状疱疹予防）", "BIKEN", "0.5")],
    "HZ-RZV": [("P-SHINGRIX", "シングリックス筋注用", "GSK", "0.5")],
    "COVID-19": [
        ("P-COMIRNATY", "コミナティ筋注", "PFIZER", "0.3"),
        ("P-SPIKEVAX", "スパイクバックス筋注", "MODERNA", "0.5"),
    ],
}

# 委託料 (yen, tax included) from April 2024; the table before it was about 5% lower.
FEES = {
    "DPT-IPV-Hib": 15400,
    "DPT-IPV": 11550,
    "Hib": 8800,
    "PCV": 12100,
    "HepB": 6600,
    "Rota1": 14300,
    "Rota5": 9900,
    "BCG": 9350,
    "MR": 11000,
    "VAR": 9900,
    "JE": 8250,
    "DT": 5500,
    "HPV": 17600,
    "Flu": 4950,
    "PPSV23": 8800,
    "HZ-live": 8250,
    "HZ-RZV": 22000,
    "COVID-19": 15300,
}
FEE_TABLE_FROM = date(2024, 4, 1)
OLD_FEE_TABLE_FROM = date(2019, 4, 1)
CONTRACTS_FROM = date(2000, 4, 1)
ADULT_VACCINES = {"Flu", "PPSV23", "HZ-live", "HZ-RZV", "COVID-19"}

DOCTOR_NAMES = [
    ("佐藤 一郎", "サトウ イチロウ"),
    ("鈴木 花子", "スズキ ハナコ"),
    ("高橋 健", "タカハシ ケン"),
    ("田中 美咲", "タナカ ミサキ"),
    ("伊藤 誠", "イトウ マコト"),
    ("渡辺 陽子", "ワタナベ ヨウコ"),
    ("山本 剛", "ヤマモト ツヨシ"),
    ("中村 由美", "ナカムラ ユミ"),
    ("小林 浩", "コバヤシ ヒロシ"),
    ("加藤 真理", "カトウ マリ"),
    ("吉田 修", "ヨシダ オサム"),
    ("山田 恵", "ヤマダ メグミ"),
    ("松本 大輔", "マツモト ダイスケ"),
    ("井上 綾", "イノウエ アヤ"),
    ("木村 聡", "キムラ サトシ"),
    ("林 直子", "ハヤシ ナオコ"),
    ("清水 亮", "シミズ リョウ"),
]


def city_clinic_names() -> list[str]:
    """The city's clinics in a fixed order (the hospital, in both lists, once), then the mass site."""
    names = list(dict.fromkeys([*CHILD_CLINICS, *ADULT_CLINICS]))
    return [*names, MASS_VACCINATION_SITE]


def clinic_code(index: int) -> str:
    return f"99{index + 1:08d}"


@dataclass(frozen=True)
class LedgerMasters:
    """What the synthetic ledger needs from the masters, as plain dicts (no query per record)."""

    clinic_ids: dict[str, int]  # clinic name -> id
    doctor_of_clinic: dict[str, tuple[int, str]]  # clinic name -> (doctor id, name)
    product_of_vaccine: dict[str, tuple[int, str, str, Decimal | None]]  # -> (id, 販売名, maker, mL)


def ensure_masters(as_of: date) -> LedgerMasters:
    """Create the masters if missing (never changes existing rows) and return the ledger's view of them."""
    makers = {
        code: Maker.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in MAKERS
    }
    products: dict[str, Product] = {}
    for vaccine, rows in PRODUCTS.items():
        for i, (code, name, maker, volume) in enumerate(rows):
            product, _ = Product.objects.get_or_create(
                code=code,
                defaults={
                    "vaccine_id": vaccine,
                    "maker": makers[maker],
                    "name": name,
                    "standard_volume_ml": Decimal(volume) if volume else None,
                },
            )
            if i == 0:
                products[vaccine] = product
            _ensure_lots(product, as_of)
    clinic_ids, doctors = {}, {}
    for index, name in enumerate(city_clinic_names()):
        clinic, created = Clinic.objects.get_or_create(
            code=clinic_code(index),
            defaults={"name": name, "address": "東和県桜ヶ丘市", "contract_from": CONTRACTS_FROM},
        )
        if created:
            _fee_table(clinic, name)
        doctor_name, kana = DOCTOR_NAMES[index % len(DOCTOR_NAMES)]
        doctor, _ = Doctor.objects.get_or_create(
            clinic=clinic, name=doctor_name, defaults={"name_kana": kana}
        )
        clinic_ids[name] = clinic.pk
        doctors[name] = (doctor.pk, doctor.name)
    return LedgerMasters(
        clinic_ids=clinic_ids,
        doctor_of_clinic=doctors,
        product_of_vaccine={
            v: (p.pk, p.name, p.maker.name, p.standard_volume_ml) for v, p in products.items()
        },
    )


def _ensure_lots(product: Product, as_of: date) -> None:
    """Three lots per product: one expired a month before the city's day, two in date."""
    stem = "".join(ch for ch in product.code.removeprefix("P-") if ch.isalpha())[:2].upper() or "LT"
    for n, days in ((1, -30), (2, 180), (3, 540)):
        Lot.objects.get_or_create(
            product=product,
            lot_number=f"{stem}{as_of.year % 100:02d}{n:02d}{sum(map(ord, product.code)) % 10}",
            defaults={"expires_on": as_of + timedelta(days=days)},
        )


def _fee_table(clinic: Clinic, name: str) -> None:
    """The city's fee table for what the clinic gives: children's clinics no adult vaccines and back."""
    if name == MASS_VACCINATION_SITE:
        vaccines = ["COVID-19"]
    elif name in CHILD_CLINICS and name in ADULT_CLINICS:
        vaccines = list(FEES)
    elif name in CHILD_CLINICS:
        vaccines = [v for v in FEES if v not in ADULT_VACCINES]
    else:
        vaccines = [v for v in FEES if v in ADULT_VACCINES]
    ClinicFee.objects.bulk_create(
        [
            ClinicFee(
                clinic=clinic,
                vaccine_id=v,
                fee_yen=round(FEES[v] * 0.95 / 10) * 10,
                valid_from=OLD_FEE_TABLE_FROM,
            )
            for v in vaccines
        ]
        + [
            ClinicFee(clinic=clinic, vaccine_id=v, fee_yen=FEES[v], valid_from=FEE_TABLE_FROM)
            for v in vaccines
        ]
    )

"""Names for the synthetic city: Japanese names with their readings, foreign names in Latin letters.

Japanese names come from Faker's ja_JP name pairs (kanji, katakana, romaji), so a kanji name and its
reading always belong together. Foreign names come from the Faker locale of the nationality, or a
short list where Faker has no Latin-script names for it, and are written the way a residence card
writes them: upper-case ASCII, family name first. Their readings are a rough katakana rendering, as
a clerk would type them when the resident brings no reading of their own.
"""

import random
import re
import unicodedata
from dataclasses import dataclass

import jaconv
from faker import Faker

from sesshu.residents.models import Sex

# Nationality → (share among foreign residents, Faker locale for family names, for given names).
# The shares follow the national statistics of foreign residents (在留外国人統計) roughly. A locale of
# None means a short list below: Faker has no Latin-script names for Korea or Nepal.
NATIONALITIES: dict[str, tuple[int, str | None, str | None]] = {
    "中国": (27, "zh_CN", "zh_CN"),
    "ベトナム": (19, "vi_VN", "vi_VN"),
    "韓国": (13, None, None),
    "フィリピン": (11, "es_MX", "en_US"),  # Spanish family names, English given names
    "ブラジル": (8, "pt_BR", "pt_BR"),
    "ネパール": (7, None, None),
    "インドネシア": (7, "id_ID", "id_ID"),
    "米国": (8, "en_US", "en_US"),
}
# Where a foreign resident lived before, for 前住所 (the country, as the register writes it).
COUNTRY_NAMES = {
    "中国": "中華人民共和国",
    "ベトナム": "ベトナム社会主義共和国",
    "韓国": "大韓民国",
    "フィリピン": "フィリピン共和国",
    "ブラジル": "ブラジル連邦共和国",
    "ネパール": "ネパール",
    "インドネシア": "インドネシア共和国",
    "米国": "アメリカ合衆国",
}
# Only families whose custom is that a wife keeps her own family name.
OWN_NAME_AFTER_MARRIAGE = {"中国", "ベトナム", "韓国"}

_KOREAN_FAMILY = ["KIM", "LEE", "PARK", "CHOI", "JUNG", "KANG", "CHO", "YOON", "JANG", "LIM", "HAN", "SHIN"]
_KOREAN_GIVEN = {
    Sex.MALE: ["MINJUN", "SEOJUN", "DOYUN", "JIHO", "JUNHO", "SUNGMIN", "JAEHYUN", "YOUNGHO", "DONGHYUN"],
    Sex.FEMALE: ["SEOYEON", "JIWOO", "HAYUN", "MINJI", "SUJIN", "EUNJI", "YUNA", "HYEJIN", "SOYOUNG"],
}
_NEPALI_FAMILY = [
    "GURUNG",
    "THAPA",
    "SHRESTHA",
    "TAMANG",
    "RAI",
    "MAGAR",
    "SHARMA",
    "ADHIKARI",
    "KARKI",
    "POUDEL",
]
_NEPALI_GIVEN = {
    Sex.MALE: ["BIKASH", "SUMAN", "RAMESH", "PRAKASH", "SANJAY", "DIPENDRA", "RAJU", "ANIL", "KIRAN"],
    Sex.FEMALE: ["ANITA", "SITA", "SUNITA", "KAMALA", "PUJA", "SABINA", "MANISHA", "RITA", "GITA"],
}


@dataclass(frozen=True)
class Name:
    family: str
    given: str
    family_kana: str
    given_kana: str
    latin: str = ""  # "FAMILY GIVEN", foreign residents only


class JapaneseNames:
    """Kanji names with their readings, from one seeded ja_JP Faker."""

    def __init__(self, faker: Faker):
        self.faker = faker

    def family(self) -> tuple[str, str]:
        kanji, kana, _romaji = self.faker.last_name_pair()
        return kanji, full_width_katakana(kana)

    def given(self, sex: str, taken: set[str]) -> tuple[str, str]:
        """A given name no one else in the household has (siblings are not named alike)."""
        pick = self.faker.first_name_male_pair if sex == Sex.MALE else self.faker.first_name_female_pair
        for _ in range(20):
            kanji, kana, _romaji = pick()
            if kanji not in taken:
                break
        return kanji, full_width_katakana(kana)

    def name(self, family: tuple[str, str], sex: str, taken: set[str]) -> Name:
        given = self.given(sex, taken)
        return Name(family=family[0], given=given[0], family_kana=family[1], given_kana=given[1])


class ForeignNames:
    """Latin-script names by nationality, each locale's Faker seeded from the city's seed."""

    def __init__(self, seed: int, rng: random.Random):
        self.rng = rng
        locales = sorted({loc for _share, *pair in NATIONALITIES.values() for loc in pair if loc})
        self.fakers: dict[str, Faker] = {}
        for offset, locale in enumerate(locales, start=1):
            faker = Faker(locale)
            faker.seed_instance(seed * 100 + offset)
            self.fakers[locale] = faker

    def nationality(self) -> str:
        names = list(NATIONALITIES)
        return self.rng.choices(names, weights=[NATIONALITIES[n][0] for n in names])[0]

    def family(self, nationality: str) -> str:
        _share, locale, _given_locale = NATIONALITIES[nationality]
        if nationality == "韓国":
            return self.rng.choice(_KOREAN_FAMILY)
        if nationality == "ネパール":
            return self.rng.choice(_NEPALI_FAMILY)
        faker = self.fakers[locale]
        raw = faker.last_romanized_name() if locale == "zh_CN" else faker.last_name()
        return ascii_upper(raw)

    def given(self, nationality: str, sex: str) -> str:
        _share, _family_locale, locale = NATIONALITIES[nationality]
        if nationality == "韓国":
            return self.rng.choice(_KOREAN_GIVEN[sex])
        if nationality == "ネパール":
            return self.rng.choice(_NEPALI_GIVEN[sex])
        faker = self.fakers[locale]
        if locale == "zh_CN":
            # Faker's romanized given names do not follow the sex; they read as names all the same.
            return ascii_upper(faker.first_romanized_name())
        first = faker.first_name_male() if sex == Sex.MALE else faker.first_name_female()
        if locale == "vi_VN":
            # Vietnamese names have a middle name between family and given name (Nguyễn Văn An).
            first = f"{faker.middle_name()} {first}"
        return ascii_upper(first)

    def name(self, family: str, nationality: str, sex: str, taken: set[str]) -> Name:
        for _ in range(20):
            given = self.given(nationality, sex)
            if given not in taken:
                break
        return Name(
            family=family,
            given=given,
            family_kana=katakana_reading(family),
            given_kana="".join(katakana_reading(part) for part in given.split()),
            latin=f"{family} {given}",
        )


def full_width_katakana(text: str) -> str:
    """Faker's readings are katakana already; NFKC turns any half-width kana into full width."""
    return jaconv.hira2kata(unicodedata.normalize("NFKC", text))


def ascii_upper(text: str) -> str:
    """Residence cards write names in upper-case ASCII: Nguyễn → NGUYEN, Đặng → DANG, Conceição → CONCEICAO"""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^A-Z ]", "", plain.upper()).strip()


# Katakana readings -----------------------------------------------------------------------------------

_VOWELS = set("aeiou")
# Spellings that jaconv's romaji table does not know, rewritten to ones it does (order matters).
_SPELLING = [
    (r"^ng", "g"),
    (r"ng$", "n"),
    (r"nh$", "n"),
    (r"zh", "j"),
    (r"chr", "kr"),
    (r"sch", "sh"),
    (r"tch", "ch"),
    (r"ck", "k"),
    (r"ph", "f"),
    (r"th", "t"),
    (r"lh", "ly"),
    (r"nh", "ny"),
    (r"gh", "g"),
    (r"qu", "kw"),
    (r"q", "ch"),
    (r"^x", "sh"),
    (r"x", "ks"),
    (r"c(?=[eiy])", "s"),
    (r"c(?!h)", "k"),
    (r"oo", "u"),
    (r"we", "ue"),
    (r"wi", "ui"),
    (r"wo", "uo"),
    (r"l", "r"),
]
# After the vowels are in: ti and di as ティ and ディ, not チ and ヂ (WAHYUDI → ワユディ).
_ROMAJI = [(r"t(?=i)", "th"), (r"d(?=i)", "dh"), (r"t(?=u)", "tw"), (r"d(?=u)", "dw")]


def katakana_reading(latin: str) -> str:
    """A katakana rendering of one Latin-script word: NGUYEN → グイェン, KIM → キム, SILVA → シルヴァ.

    Rough on purpose (a register's reading of a foreign name is whatever the resident gives): the
    word is respelled as romaji, consonants without a vowel get the one Japanese adds (KIM → kimu),
    and jaconv turns the romaji into kana. Anything that is not katakana is dropped.
    """
    word = re.sub(r"[^a-z]", "", latin.lower())
    for pattern, replacement in _SPELLING:
        word = re.sub(pattern, replacement, word)
    romaji = _with_vowels(word)
    for pattern, replacement in _ROMAJI:
        romaji = re.sub(pattern, replacement, romaji)
    kana = jaconv.hira2kata(jaconv.alphabet2kana(romaji))
    kana = re.sub(r"[^ァ-ヴー]", "", kana).lstrip("ッンァィゥェォャュョー")
    return kana or "ー"


def _with_vowels(word: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(word):
        nxt = word[i + 1] if i + 1 < len(word) else ""
        prev = word[i - 1] if i else ""
        if ch in _VOWELS:
            out.append(ch)
        elif ch == "y":
            out.append("y" if nxt in _VOWELS else "i")
        elif ch == "n":
            out.append("n" if nxt in _VOWELS or nxt == "y" else "nn")
        elif ch == "r" and prev in _VOWELS and not nxt:
            out.append("-")  # TAYLOR → タイロー, as English names are read
        elif ch == "h" and (prev in _VOWELS or not prev) and nxt not in _VOWELS:
            continue  # a silent h: ANH, SHAH
        elif (ch in "sc" and nxt == "h") or nxt in _VOWELS or (nxt == "y" and word[i + 2 : i + 3] in _VOWELS):
            out.append(ch)
        elif ch == "h" and prev in "sc":
            out.append("h" if nxt in _VOWELS else "hu")
        elif nxt == ch:
            continue  # a doubled consonant is read once
        else:
            out.append(ch + ("o" if ch in "td" else "u"))
    return "".join(out)

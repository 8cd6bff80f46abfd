"""The 予診票 (pre-vaccination questionnaire) printed with each notice: the standard questions.

The questions follow the model forms the ministry publishes with the 定期接種実施要領 (予診票の様式:
乳幼児・小児用, 高齢者インフルエンザ用, 高齢者肺炎球菌用, HPV用) and the 予防接種ガイドライン; a
city that prints its own wording edits this module. Each question is answered はい / いいえ.
"""

from dataclasses import dataclass

from .engine import is_a_class, series_label

SOURCE = "定期接種実施要領（厚生労働省）予診票の様式に準拠"

_READ = "今日受ける予防接種について、市区町村から配られている説明書を読みましたか。"
_TODAY = "今日、体に具合の悪いところがありますか。"
_MONTH_ILL = "最近1か月以内に熱が出たり、病気にかかったりしましたか。"
_CONTACT = "1か月以内に家族や周りで、麻しん、風しん、水痘、おたふくかぜなどにかかった人がいますか。"
_OTHER_VACCINE = "1か月以内に予防接種を受けましたか。（ワクチン名：　　　　　　）"
_CHRONIC = (
    "生まれてから今までに、先天性異常、心臓、腎臓、肝臓、脳神経、免疫不全症、その他の病気にかかり、"
    "医師の診察を受けていますか。"
)
_DOCTOR_OK = "その病気を診てもらっている医師に、今日の予防接種を受けてよいと言われましたか。"
_SEIZURE = "ひきつけ（けいれん）を起こしたことがありますか。"
_ALLERGY = (
    "薬や食品（鶏卵、鶏肉など）で皮膚に発しんやじんましんが出たり、体の具合が悪くなったことがありますか。"
)
_IMMUNO_FAMILY = "近親者に先天性免疫不全症と診断されている人はいますか。"
_REACTION = "これまでに予防接種を受けて具合が悪くなったことがありますか。（ワクチン名：　　　　　　）"
_REACTION_FAMILY = "近親者に予防接種を受けて具合が悪くなった人はいますか。"
_TRANSFUSION = "6か月以内に輸血あるいはガンマグロブリンの注射を受けましたか。"
_QUESTIONS = "今日の予防接種について質問がありますか。"

CHILD = (
    _READ,
    "お子さんの発育歴についておたずねします。出生体重（　　　g）。分娩時や出生後に異常がありましたか。"
    "乳幼児健診で異常があると言われたことがありますか。",
    _TODAY,
    _MONTH_ILL,
    _CONTACT,
    _OTHER_VACCINE,
    _CHRONIC,
    _DOCTOR_OK,
    _SEIZURE,
    _ALLERGY,
    _IMMUNO_FAMILY,
    _REACTION,
    _REACTION_FAMILY,
    _TRANSFUSION,
    _QUESTIONS,
)
EXTRA = {
    "Rota": ("腸重積症にかかったことがありますか。", "胃腸の病気や、胃腸の手術を受けたことがありますか。"),
    "BCG": (
        "家族に結核にかかっている人はいますか。また、過去にかかった人はいますか。",
        "4週間以上せきが続く人が周りにいますか。",
    ),
    "HepB": ("お母さんが B 型肝炎ウイルスを持っていると言われたことがありますか（母子感染予防の対象か）。",),
    "MR-1": ("生ワクチンです。1か月以内に他の生ワクチンを受けましたか。",),
    "MR-2": ("生ワクチンです。1か月以内に他の生ワクチンを受けましたか。",),
    "VAR": ("生ワクチンです。1か月以内に他の生ワクチンを受けましたか。",),
}
HPV = (
    _READ,
    _TODAY,
    _MONTH_ILL,
    "現在、何かの病気で医師にかかっていますか。（病名：　　　　　　）",
    _DOCTOR_OK,
    _SEIZURE,
    "薬や食品で皮膚に発しんやじんましんが出たり、体の具合が悪くなったことがありますか。",
    "これまでに予防接種を受けて具合が悪くなったことがありますか。注射や採血で気を失ったことがありますか。",
    "最近、月経がありましたか。現在妊娠していますか、または妊娠している可能性がありますか。",
    _OTHER_VACCINE,
    _QUESTIONS,
)
OLDER_ADULT = (
    _READ,
    _TODAY,
    "現在、何かの病気で医師にかかっていますか。（病名：　　　　　　）",
    "その病気の主治医に、今日の予防接種を受けてよいと言われましたか。",
    _MONTH_ILL,
    "心臓病、腎臓病、肝臓病、血液疾患などの慢性の病気にかかったことがありますか。",
    "これまでに間質性肺炎や気管支ぜんそくなどの呼吸器の病気と診断されたことがありますか。",
    "これまでに免疫の状態に異常があると言われたことがありますか。",
    _SEIZURE,
    "薬や食品で皮膚に発しんやじんましんが出たり、体の具合が悪くなったことがありますか。",
    "これまでにこの予防接種を受けて具合が悪くなったことがありますか。",
    _OTHER_VACCINE,
    _QUESTIONS,
)
EXTRA_ADULT = {
    "PPSV23": ("これまでに肺炎球菌ワクチン（23価）の接種を受けたことがありますか。（　　年　　月頃）",),
    "HZ": ("これまでに帯状疱疹ワクチンの接種を受けたことがありますか。（ワクチン名：　　　　　　）",),
}


@dataclass(frozen=True)
class Questionnaire:
    title: str
    questions: tuple[str, ...]
    adult: bool  # signed by the person (B類, HPV for 16 and over); a child's by the guardian
    consent: str
    source: str = SOURCE


def _family(series: str) -> str:
    return series.split("-")[0] if series.split("-")[0] in {"Rota", "HZ"} else series


def questionnaire_for(series: str) -> Questionnaire:
    title = f"{series_label(series)} 予防接種予診票"
    family = _family(series)
    if not is_a_class(series):
        return Questionnaire(
            title,
            OLDER_ADULT + EXTRA_ADULT.get(family, ()),
            True,
            "医師の診察・説明を受け、予防接種の効果や目的、重い副反応の可能性などについて理解した上で、"
            "接種を希望しますか。（接種を希望します ・ 接種を希望しません）",
        )
    if family == "HPV":
        return Questionnaire(
            title,
            HPV,
            False,
            "医師の診察・説明を受け、予防接種の効果や目的、重い副反応の可能性、予防接種健康被害救済制度について"
            "理解した上で、接種を希望しますか。（接種を希望します ・ 接種を希望しません）",
        )
    return Questionnaire(
        title,
        CHILD[:-1] + EXTRA.get(family, ()) + CHILD[-1:],
        False,
        "医師の診察・説明を受け、予防接種の効果や目的、重い副反応の可能性などについて理解した上で、"
        "子どもに接種させることに同意しますか。（同意します ・ 同意しません）",
    )

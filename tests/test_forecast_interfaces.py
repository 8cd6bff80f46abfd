"""The forecast's interfaces: the API (both operations), the CLI, the person page, 長期療養特例, campaigns."""

import json
from datetime import date

import pytest
from django.core.management import call_command

from sesshu.audit.models import AuditEvent
from sesshu.immunization.models import LongTermCareException
from sesshu.immunization.schedule import load_campaigns

from .factories import make_vaccination

REQUEST = {
    "birth_date": "2024-05-01",
    "sex": "F",
    "as_of": "2024-07-10",
    "history": [{"vaccine": "DPT-IPV-Hib", "date": "2024-07-01"}, {"vaccine": "PCV", "date": "2024-06-20"}],
}


def post(client, body):
    return client.post("/api/v1/forecast", body if isinstance(body, str) else json.dumps(body),
                       content_type="application/json")  # fmt: skip


def test_api_forecast_answers_the_documented_format(staff, login):
    response = post(login(staff["clerk"]), REQUEST)
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"evaluations", "recommendations"}
    first = data["evaluations"][0]
    assert set(first) == {"vaccine", "date", "valid", "reasons"}
    assert first == {"vaccine": "PCV", "date": "2024-06-20", "valid": False, "reasons": first["reasons"]}
    assert first["reasons"][0]["code"] == "too_young"  # 生後2月 is reached on 2024-06-30
    assert {"code", "ja", "en", "source"} <= set(first["reasons"][0])
    hib = next(r for r in data["recommendations"] if r["series"] == "Hib")
    assert {k: hib[k] for k in ("series", "dose_number", "status", "earliest", "deadline")} == {
        "series": "Hib", "dose_number": 2, "status": "not_yet", "earliest": "2024-07-29", "deadline": "2025-04-30",  # noqa: E501
    }  # fmt: skip
    assert {"recommended_from", "recommended_until"} <= set(hib)


@pytest.mark.parametrize(
    "body, field",
    [
        ("{not json", "body"),
        ("[1, 2]", "body"),
        ({**REQUEST, "birth_date": "2024-02-30"}, "birth_date"),
        ({**REQUEST, "sex": "X"}, "sex"),
        ({**REQUEST, "as_of": None}, "as_of"),
        ({**REQUEST, "history": [{"vaccine": "MMR", "date": "2024-07-01"}]}, "history[0].vaccine"),
        ({**REQUEST, "history": [{"vaccine": "MR", "date": "令和6年7月1日"}]}, "history[0].date"),
        ({**REQUEST, "history": [{"vaccine": "MR", "date": "2020-01-01"}]}, "history[0].date"),
        ({**REQUEST, "history": "MR"}, "history"),
    ],
)
def test_api_forecast_bad_input_is_400_in_both_languages(staff, login, body, field):
    response = post(login(staff["clerk"]), body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in [e["field"] for e in errors]
    assert all(e["message_ja"] and e["message_en"] for e in errors)


def test_api_forecast_needs_the_right(staff, login):
    assert post(login(staff["auditor"]), REQUEST).status_code == 403
    assert AuditEvent.objects.filter(action="denied").exists()


def test_person_forecast_is_audited(family, staff, login):
    child = family["child"]
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    response = login(staff["clerk"]).get(f"/api/v1/persons/{child.pk}/forecast?as_of=2021-05-01")
    assert response.status_code == 200
    mr1 = next(r for r in response.json()["recommendations"] if r["series"] == "MR-1")
    assert mr1["status"] == "complete"  # born 2020-04-01, MR on 2021-04-10
    events = AuditEvent.objects.filter(id__gt=before, action="view", object_type="forecast")
    assert [child.pk in e.subjects for e in events] == [True]
    bad = login(staff["clerk"]).get(f"/api/v1/persons/{child.pk}/forecast?as_of=2021-02-30")
    assert bad.status_code == 400 and bad.json()["errors"][0]["message_en"]


def test_cli_forecast_reads_a_file_and_writes_json(tmp_path, capsys):
    path = tmp_path / "in.json"
    path.write_text(json.dumps(REQUEST), encoding="utf-8")
    call_command("forecast", "--input", str(path))
    data = json.loads(capsys.readouterr().out)
    assert [e["vaccine"] for e in data["evaluations"]] == ["PCV", "DPT-IPV-Hib"]
    assert any(r["series"] == "MR-2" for r in data["recommendations"])


def test_cli_forecast_bad_input_exits_2_with_both_languages(tmp_path, capsys):
    path = tmp_path / "in.json"
    path.write_text(json.dumps({**REQUEST, "birth_date": "2023-02-29"}), encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        call_command("forecast", "--input", str(path))
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "実在する日付" in err and "not a real date" in err
    with pytest.raises(SystemExit) as missing:
        call_command("forecast", "--input", str(tmp_path / "none.json"))
    assert missing.value.code == 2


def test_person_page_shows_the_forecast_and_flags_errors(family, staff, login):
    child = family["child"]  # born 2020-04-01
    make_vaccination(child, "VAR", 1, date(2020, 5, 1))  # 生後12月より前: 間違い接種
    page = login(staff["clerk"]).get(f"/persons/{child.pk}/").content.decode()
    assert 'id="forecast"' in page and 'data-series="MR-2"' in page
    assert 'class="mistake"' in page
    assert "生後12月" in page or "12 months" in page
    assert 'name="illness_until"' in page  # clerks may record a 長期療養特例


def test_long_term_care_is_recorded_audited_and_applied(family, staff, login):
    child = family["child"]
    client = login(staff["clerk"])
    url = f"/persons/{child.pk}/long-term-care/"
    bad = client.post(
        url, {"series": "MR-1", "reason": "", "illness_from": "2021-02-30", "illness_until": "x"}
    )
    assert bad.status_code == 302 and not LongTermCareException.objects.exists()
    ok = client.post(url, {"series": "VAR", "reason": "白血病の治療", "illness_from": "2021-01-01",
                           "illness_until": "2024-06-30"})  # fmt: skip
    assert ok.status_code == 302
    assert LongTermCareException.objects.get().recorded_by == staff["clerk"]
    assert AuditEvent.objects.filter(action="create", object_type="long_term_care_exception").exists()
    data = client.get(f"/api/v1/persons/{child.pk}/forecast?as_of=2024-07-01").json()
    var = next(r for r in data["recommendations"] if r["series"] == "VAR")
    assert var["status"] == "due" and var["deadline"] == "2026-06-29"


CAMPAIGN = """
code = "MPOX-2026"
name_ja = "エムポックス臨時接種"
name_en = "Mpox temporary vaccination"
kind = "temporary"
source = "予防接種法 第6条第1項"
vaccines = ["COVID-19"]
starts = "2026-06-01"
ends = "2026-12-31"
doses = 1

[[groups]]
priority = 1
name_ja = "65歳以上"
name_en = "65 and over"
min_age = "65y"

[[groups]]
priority = 2
name_ja = "18歳以上"
name_en = "18 and over"
min_age = "18y"
starts = "2026-08-01"
"""


def test_a_city_campaign_is_read_from_its_directory(tmp_path, settings):
    from sesshu.immunization.schedule import campaigns, forecast

    (tmp_path / "mpox.toml").write_text(CAMPAIGN, encoding="utf-8")
    settings.SESSHU_CAMPAIGNS_DIR = str(tmp_path)
    campaigns.cache_clear()
    try:
        older = forecast(date(1950, 1, 1), "M", [], date(2026, 6, 1)).recommendation("MPOX-2026")
        adult = forecast(date(1990, 1, 1), "M", [], date(2026, 6, 1)).recommendation("MPOX-2026")
        child = forecast(date(2020, 1, 1), "M", [], date(2026, 6, 1)).recommendation("MPOX-2026")
        done = forecast(date(1950, 1, 1), "M", [("COVID-19", date(2026, 6, 2))], date(2026, 6, 3))
    finally:
        campaigns.cache_clear()
    assert (older.status, older.earliest) == ("due", date(2026, 6, 1))
    assert (adult.status, adult.earliest) == ("not_yet", date(2026, 8, 1))  # priority 2 starts later
    assert "priority 2" in adult.reasons[0].en and "優先順位 2" in adult.reasons[0].ja
    assert child.status == "not_eligible"
    assert done.recommendation("MPOX-2026").status == "complete"


def test_broken_campaign_files_are_refused_in_both_languages(tmp_path, capsys):
    from sesshu.core.problems import ProblemList

    (tmp_path / "a.toml").write_text(CAMPAIGN.replace('kind = "temporary"', 'kind = "voluntary"')
                                     .replace('ends = "2026-12-31"', 'ends = "2026-02-30"'), encoding="utf-8")  # fmt: skip  # noqa: E501
    (tmp_path / "b.toml").write_text("code = [", encoding="utf-8")
    with pytest.raises(ProblemList) as exc:
        load_campaigns([tmp_path])
    texts = " ".join(p.ja + p.en for p in exc.value.problems)
    assert "kind" in texts and "2026-02-30" in texts and "TOML" in texts
    with pytest.raises(SystemExit) as exit_:
        call_command("schedule", "check", "--campaigns-dir", str(tmp_path))
    assert exit_.value.code == 2
    assert "NG" in capsys.readouterr().err


def test_schedule_check_passes_on_the_shipped_rules(capsys):
    call_command("schedule", "check")
    assert capsys.readouterr().out.startswith("OK: 17 series")

"""The compiled schedule engine (mypyc, schedule/compiled.py): in use after set-up, the same answers
as the Python engine for every kind of person, and never used once the sources have changed."""

import json
import os
import random
import subprocess
import sys
from datetime import date, timedelta

from sesshu.immunization.schedule import SERIES, VACCINE_CODES, compiled, forecast
from sesshu.immunization.schedule.types import Extension

# Reads cases as JSON on stdin and prints each forecast as JSON: run with SESSHU_PURE_PYTHON=1.
PURE_ENGINE = """
import json, sys
from datetime import date
from sesshu.immunization.schedule import compiled, forecast
from sesshu.immunization.schedule.types import Extension
assert not compiled.in_use()
for case in json.load(sys.stdin):
    fc = forecast(
        date.fromisoformat(case["birth"]), case["sex"],
        [(v, date.fromisoformat(d)) for v, d in case["history"]], date.fromisoformat(case["as_of"]),
        extensions=[Extension(s, date.fromisoformat(a), date.fromisoformat(b)) for s, a, b in case["ext"]],
    )
    print(json.dumps(fc.as_json(), ensure_ascii=False, sort_keys=True))
"""


def _cases(n: int, seed: int) -> list[dict]:
    """Persons of every age with random histories: doses too early, too close, after the as-of date,
    repeated, of every vaccine; some with a 長期療養特例."""
    rng = random.Random(seed)
    codes = list(VACCINE_CODES)
    a_class = [code for code in SERIES if SERIES[code].category == "A"]
    cases = []
    for _ in range(n):
        as_of = date(2014, 4, 1) + timedelta(days=rng.randrange(13 * 365))
        birth = as_of - timedelta(days=rng.randrange(95 * 365))
        history = []
        for _ in range(rng.choice([0, 0, 1, 2, 4, 8, 14])):
            day = birth + timedelta(days=rng.randrange(max(1, (as_of - birth).days + 60)))
            history.append((rng.choice(codes), day.isoformat()))
        history = list(dict.fromkeys(history))  # one dose of a vaccine a day, as the register keeps it
        ext = []
        if rng.random() < 0.05:
            start = birth + timedelta(days=rng.randrange(3 * 365))
            end = start + timedelta(days=rng.randrange(2 * 365))
            ext.append((rng.choice(a_class), start.isoformat(), end.isoformat()))
        cases.append(
            {"birth": birth.isoformat(), "sex": rng.choice("MF"), "history": history,
             "as_of": as_of.isoformat(), "ext": ext}
        )  # fmt: skip
    return cases


def test_it_runs_the_compiled_engine_after_setup():
    # make setup (so make test and make demo) builds it; the city forecast's benchmark depends on it.
    assert compiled.in_use(), "run `make setup`: the compiled engine is not built for these sources"


def test_the_compiled_and_python_engines_answer_alike():
    cases = _cases(3000, seed=20261205)
    compiled_answers = []
    for case in cases:
        fc = forecast(
            date.fromisoformat(case["birth"]),
            case["sex"],
            [(v, date.fromisoformat(d)) for v, d in case["history"]],
            date.fromisoformat(case["as_of"]),
            extensions=[
                Extension(s, date.fromisoformat(a), date.fromisoformat(b)) for s, a, b in case["ext"]
            ],
        )
        compiled_answers.append(fc.as_json())
    env = {**os.environ, "SESSHU_PURE_PYTHON": "1"}
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PURE_ENGINE], input=json.dumps(cases), env=env,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    pure_answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(pure_answers) == len(cases)
    mismatched = [
        (case, a, b)
        for case, a, b in zip(cases, compiled_answers, pure_answers, strict=True)
        if json.loads(json.dumps(a, ensure_ascii=False, sort_keys=True)) != b
    ]
    assert not mismatched, mismatched[:1]
    # The cases reach every status and flag dose errors, so the comparison covers the engine's paths.
    statuses = {r["status"] for a in pure_answers for r in a["recommendations"]}
    assert statuses == {"due", "not_yet", "complete", "aged_out", "not_eligible"}
    codes = {r["code"] for a in pure_answers for e in a["evaluations"] for r in e["reasons"]}
    assert {"too_young", "too_old", "interval_too_short", "future_date"} <= codes


def test_a_changed_engine_source_is_never_shadowed_by_an_old_build(tmp_path, monkeypatch):
    for module in compiled.MODULES:
        source = (compiled.PACKAGE_DIR / f"{module}.py").read_text(encoding="utf-8")
        (tmp_path / f"{module}.py").write_text(source + "\n# edited\n", encoding="utf-8")
    built_for_current = compiled.build_dir()
    monkeypatch.setattr(compiled, "PACKAGE_DIR", tmp_path)
    assert compiled.build_dir() != built_for_current
    path: list[str] = []
    assert compiled.activate(path) is False
    assert path == []


def test_a_changed_module_the_engine_was_compiled_against_needs_a_new_build(tmp_path, monkeypatch):
    # mypyc compiled engine.py against rules.py's classes: a build made before rules.py changed is
    # not used with the new rules.py.
    for source in compiled.PACKAGE_DIR.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        (tmp_path / source.name).write_text(
            text + "\n# edited\n" if source.name == "rules.py" else text, encoding="utf-8"
        )
    built_for_current = compiled.build_dir()
    monkeypatch.setattr(compiled, "PACKAGE_DIR", tmp_path)
    assert compiled.build_dir() != built_for_current
    path: list[str] = []
    assert compiled.activate(path) is False
    assert path == []

"""Problems a user caused and can fix, each with a stable code and a message in Japanese and English.

Services raise ``Problem``; views show ``message`` in the active language, the API returns both.
Nothing personal goes into a message: it may be shown on screen and is kept in the audit log.
"""

from dataclasses import dataclass

from django.utils.translation import get_language


@dataclass
class Problem(Exception):
    code: str
    ja: str
    en: str
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.en}"

    @property
    def message(self) -> str:
        return self.en if (get_language() or "ja").startswith("en") else self.ja

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "field": self.field, "message_ja": self.ja, "message_en": self.en}


class ProblemList(Exception):
    """Several problems found in one input (a form, a query), reported together."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems

    def as_dicts(self) -> list[dict[str, str | None]]:
        return [p.as_dict() for p in self.problems]


def too_long(field: str, label_ja: str, label_en: str, limit: int) -> Problem:
    return Problem(
        "too_long",
        f"{label_ja}は{limit}文字以内で入力してください。",
        f"{label_en} must be at most {limit} characters.",
        field,
    )


def problems_of(exc: Problem | ProblemList) -> list[Problem]:
    """The problems a service raised, one or several alike."""
    return exc.problems if isinstance(exc, ProblemList) else [exc]


def flash_problems(request, exc: Problem | ProblemList) -> None:
    """Show a refused action's problems as error messages on the page the view redirects to."""
    from django.contrib import messages

    for problem in problems_of(exc):
        messages.error(request, problem.message)

"""Every route that touches personal data writes an audit event, for every role, allowed or refused.

The matrix is route x role (and the stranger with no role, and the anonymous visitor); the roles
allowed on each route are written by hand in tests/routes.py, independently of the rights table.
"""

import pytest

from sesshu.audit.models import AuditEvent
from sesshu.audit.services import verify_chain

from .conftest import ROLE_CODES, verify_second_factor
from .routes import PERSONAL_BY_NAME, PERSONAL_ROUTES, all_routes, call, is_exempt

pytestmark = pytest.mark.django_db


def test_every_route_is_either_audited_or_exempt_with_a_reason():
    unknown = [
        f"{pattern} ({name})"
        for pattern, name in all_routes()
        if not is_exempt(pattern, name) and name not in PERSONAL_BY_NAME
    ]
    assert unknown == [], f"Add these routes to tests/routes.py (personal data or exempt): {unknown}"


def test_the_personal_route_table_names_only_real_routes():
    names = {name for _, name in all_routes()}
    assert set(PERSONAL_BY_NAME) <= names


@pytest.mark.parametrize("route", PERSONAL_ROUTES, ids=lambda r: r.name)
@pytest.mark.parametrize("role", [*ROLE_CODES, "none"])
def test_route_by_role(route, role, client, staff, family):
    user = staff[role]
    client.force_login(user)
    if role == "number_use":
        verify_second_factor(client, user)  # number-use work always runs with the second factor
    before = AuditEvent.objects.count()

    response = call(client, route, family, HTTP_ACCEPT="application/json" if route.api else "text/html")

    events = list(AuditEvent.objects.filter(id__gt=before, actor=user))
    assert events, f"{route.name} as {role} wrote no audit event"
    if role in route.allowed:
        assert response.status_code == route.ok_status, response.content[:500]
        event = next(e for e in events if e.route == route.name and e.action == route.action)
        assert route.expected_subject(family) in event.subjects or not route.names_subjects
        assert event.purpose
    else:
        assert response.status_code == 403
        assert [e.action for e in events] == ["denied"]
        assert events[0].outcome == "denied"
        # A refusal shows nothing of the person.
        assert "翔太" not in response.content.decode()
    assert verify_chain().ok


@pytest.mark.parametrize("route", PERSONAL_ROUTES, ids=lambda r: r.name)
def test_anonymous_visitors_get_nothing(route, client, family):
    response = call(client, route, family)
    if route.api:
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "unauthenticated"
    else:
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    assert "翔太" not in response.content.decode()


@pytest.mark.parametrize(
    "route",
    [
        r
        for r in PERSONAL_ROUTES
        if r.name in {"immunization:person", "api:get_person", "api:get_immunizations"}
    ],
    ids=lambda r: r.name,
)
def test_unknown_person_ids_are_not_found_and_logged(route, client, staff, family):
    client.force_login(staff["clerk"])
    url = route.url(family).replace(f"/{family['child'].pk}", "/987654")
    response = client.get(url)
    assert response.status_code == 404
    last = AuditEvent.objects.order_by("-id").first()
    assert (last.action, last.outcome, last.criteria) == ("view", "failed", {"person_id": 987654})

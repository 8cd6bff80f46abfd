"""Every URL pattern of the product, and what the tests know about each one.

A new route must be added here, either as touching personal data (with how to call it and which
roles may) or as exempt (with the reason). The route test fails for a route in neither table.
"""

from dataclasses import dataclass

from django.urls import URLResolver, get_resolver, reverse


def all_routes() -> list[tuple[str, str]]:
    """(pattern, name) for every URL pattern, namespaces included."""

    def walk(patterns, prefix="", namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = ":".join(x for x in [namespace, pattern.namespace] if x) or None
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            else:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield prefix + str(pattern.pattern), name

    return list(walk(get_resolver().url_patterns))


EXEMPT = {
    "portal:home": "shows aggregate counts only (residents, records this month, events today)",
    "accounts:login": "the login form; login events are tested in test_authentication",
    "accounts:logout": "ends the session; the logout event is tested in test_authentication",
    "set_language": "stores the UI language in a cookie",
    "api:openapi-json": "the API description, no data",
    "api:api-root": "the API's index, no data",
}
# The Django admin lists staff accounts, terminals and tokens only; no resident data is registered there.
EXEMPT_PREFIXES = {"admin/": "staff accounts, terminals and API tokens only (sesshu/accounts/admin.py)"}

CLERKS = {"clerk", "number_use", "supervisor"}


@dataclass(frozen=True)
class PersonalRoute:
    name: str
    url: object  # callable(data) -> URL
    allowed: frozenset[str]  # roles that may use it: written by hand, not derived from roles.py
    action: str  # the audit action a successful call writes
    api: bool = False


PERSONAL_ROUTES = [
    PersonalRoute(
        "immunization:search",
        lambda d: reverse("immunization:search") + "?name=タナカ",
        frozenset(CLERKS),
        "search",
    ),
    PersonalRoute(
        "immunization:person",
        lambda d: reverse("immunization:person", args=[d["child"].pk]),
        frozenset(CLERKS),
        "view",
    ),
    PersonalRoute(
        "api:search_persons",
        lambda d: reverse("api:search_persons") + "?name=たなか",
        frozenset(CLERKS),
        "search",
        api=True,
    ),
    PersonalRoute(
        "api:get_person",
        lambda d: reverse("api:get_person", args=[d["child"].pk]),
        frozenset(CLERKS),
        "view",
        api=True,
    ),
    PersonalRoute(
        "api:get_immunizations",
        lambda d: reverse("api:get_immunizations", args=[d["child"].pk]),
        frozenset(CLERKS),
        "view",
        api=True,
    ),
]
PERSONAL_BY_NAME = {route.name: route for route in PERSONAL_ROUTES}


def is_exempt(pattern: str, name: str | None) -> bool:
    return name in EXEMPT or any(pattern.startswith(prefix) for prefix in EXEMPT_PREFIXES)

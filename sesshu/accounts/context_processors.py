from .roles import rights_of, roles_of


def staff_rights(request):
    """Templates show only the menu entries the user's roles grant."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"rights": frozenset(), "staff_roles": []}
    return {"rights": rights_of(user), "staff_roles": roles_of(user)}

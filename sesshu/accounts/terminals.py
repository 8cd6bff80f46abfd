from django.core.cache import cache


def terminal_name(ip_address: str) -> str:
    """The registered terminal's name for an address, or "" (cached for a minute)."""
    if not ip_address:
        return ""
    key = f"sesshu:terminal:{ip_address}"
    name = cache.get(key)
    if name is None:
        from .models import Terminal

        name = (
            Terminal.objects.filter(ip_address=ip_address, active=True).values_list("name", flat=True).first()
            or ""
        )
        cache.set(key, name, 60)
    return name

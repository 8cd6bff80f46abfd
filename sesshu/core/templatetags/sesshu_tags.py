from django import template

from sesshu.core.wareki import format_wareki

register = template.Library()


@register.filter
def wareki(value):
    """{{ person.birth_date|wareki }} -> 令和7年4月1日"""
    return format_wareki(value)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None

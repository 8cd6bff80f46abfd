"""The person page's "Notices" section (immunization/_notices.html) reads the person's notices here.

The person page's view event already names the person, so this read adds no event of its own."""

from django import template

from ..notices.services import notices_of_person

register = template.Library()


@register.simple_tag
def person_notices(person):
    return notices_of_person(person.pk)

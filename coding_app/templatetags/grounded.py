"""Template filters of Grounded's pages."""

from django import template

register = template.Library()

WHOLE_UP_TO = 18
HEAD, TAIL = 6, 10


@register.filter
def id_short(value) -> str:
    """A long post id by its start and end, an ellipsis between: every post of LinkedIn's
    export has an id that starts "urn:li:share:73…", so the middle tells posts apart least
    ("urn:li…6846990338"). Ids up to 18 characters are shown whole; the page gives the whole
    id on hover."""
    text = str(value)
    return text if len(text) <= WHOLE_UP_TO else f"{text[:HEAD]}…{text[-TAIL:]}"

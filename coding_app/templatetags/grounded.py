"""Template filters of Grounded's pages."""

from django import template

register = template.Library()

ID_TAIL = 12


@register.filter
def id_tail(value) -> str:
    """A long post id by its end, after an ellipsis: every post of LinkedIn's export has an
    id that starts "urn:li:share:73…", so the start tells posts apart least. Short ids are
    shown whole; the page gives the whole id on hover."""
    text = str(value)
    return text if len(text) <= ID_TAIL + 2 else "…" + text[-ID_TAIL:]

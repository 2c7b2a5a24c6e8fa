"""`{{ amount|money }}` → `$1,234.56`: the cents rule (core.money) for templates. Loaded as a builtin."""

from decimal import Decimal, InvalidOperation

from django import template

from core.money import money_text

register = template.Library()


@register.filter
def money(value) -> str:
    if value is None or value == "":
        return ""
    try:
        return money_text(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)

from django import template

from accounts import permissions

register = template.Library()


@register.filter
def has_verified_email(user) -> bool:
    """`{% if user|has_verified_email %}`: the same cached answer the views get."""
    return permissions.has_verified_email(user)

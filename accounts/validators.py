"""What a username may be: Django's characters, and never a reserved name in disguise; and an
email address that mail can be sent to."""

import unicodedata

from django.conf import settings
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

from core.text import skeleton


@deconstructible
class NotReservedUsernameValidator:
    """Refuse names that look like ACCOUNT_USERNAME_BLACKLIST: "аdmin" with a Cyrillic "а",
    "ＡＤＭＩＮ" or "ádmin" read as "admin"."""

    message = "This username is reserved. Please choose another."
    code = "username_blacklisted"

    def __call__(self, value: str) -> None:
        reserved = {skeleton(name) for name in settings.ACCOUNT_USERNAME_BLACKLIST}
        if skeleton(value) in reserved:
            raise ValidationError(self.message, code=self.code)


# allauth runs these on every username it is given (ACCOUNT_USERNAME_VALIDATORS).
username_validators = [UnicodeUsernameValidator(), NotReservedUsernameValidator()]


def validate_mail_domain(email: str) -> None:
    """Refuse an address whose domain mail cannot be sent to: one that IDNA cannot encode
    (a label over 63 bytes once encoded), or that holds invisible characters IDNA drops."""
    domain = email.rpartition("@")[2]
    if any(unicodedata.category(char) == "Cf" for char in domain):
        raise ValidationError("This email address holds invisible characters.", code="invalid")
    try:
        domain.encode("idna")
    except UnicodeError:
        raise ValidationError(
            "The domain of this email address is not valid.", code="invalid"
        ) from None

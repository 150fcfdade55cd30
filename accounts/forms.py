"""allauth's forms, worded for this site. Labels are always shown, so placeholders that only
repeat them are dropped."""

from allauth.account import forms as allauth_forms
from django.core.validators import MaxLengthValidator

from accounts.validators import validate_mail_domain


class _SiteWording:
    labels: dict[str, str] = {}
    help_texts: dict[str, str] = {}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.pop("placeholder", None)
            field.label = self.labels.get(name, field.label)
            field.help_text = self.help_texts.get(name, field.help_text)
        # An address mail cannot be sent to is refused before an account or a mail is made.
        if "email" in self.fields:
            self.fields["email"].validators.append(validate_mail_domain)


LOGIN_MAX_LENGTH = 320  # the longest email address allauth accepts


class LoginForm(_SiteWording, allauth_forms.LoginForm):
    labels = {"login": "Username or email", "remember": "Keep me signed in on this device"}
    # The page offers "Forgot your password?" under the button instead.
    help_texts = {"password": ""}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # "username" lets password managers fill the identifier, whichever form it takes.
        self.fields["login"].widget.attrs.update(
            {"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        )
        # No username or address is longer; a longer one would only reach the database
        # (SQLite refuses LIKE patterns over 50,000 bytes).
        self.fields["login"].max_length = LOGIN_MAX_LENGTH
        self.fields["login"].validators.append(MaxLengthValidator(LOGIN_MAX_LENGTH))
        self.fields["login"].widget.attrs["maxlength"] = str(LOGIN_MAX_LENGTH)


class SignupForm(_SiteWording, allauth_forms.SignupForm):
    labels = {"email": "Email", "password2": "Password again"}
    help_texts = {
        "email": "We send you a link to verify it. It is never shown to anyone.",
        "username": "Shown on your public profile and next to your suggestions.",
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"autocapitalize": "none", "spellcheck": "false"}
        )


class ResetPasswordForm(_SiteWording, allauth_forms.ResetPasswordForm):
    labels = {"email": "Email"}


class ResetPasswordKeyForm(_SiteWording, allauth_forms.ResetPasswordKeyForm):
    labels = {"password1": "New password", "password2": "New password again"}


class ChangePasswordForm(_SiteWording, allauth_forms.ChangePasswordForm):
    labels = {
        "oldpassword": "Current password",
        "password1": "New password",
        "password2": "New password again",
    }


class SetPasswordForm(_SiteWording, allauth_forms.SetPasswordForm):
    labels = {"password1": "Password", "password2": "Password again"}


class AddEmailForm(_SiteWording, allauth_forms.AddEmailForm):
    labels = {"email": "New email address"}

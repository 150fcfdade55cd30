"""allauth's forms, worded for this site. Labels are always shown, so placeholders that only
repeat them are dropped."""

from allauth.account import forms as allauth_forms
from allauth.core import context
from allauth.core.internal import ratelimit
from django.contrib.auth.hashers import make_password
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

    def clean(self) -> dict:
        cleaned_data = super().clean()
        # allauth compares the two only when the first passed its checks: a mismatch behind
        # "too common" went unsaid, and the reader retyped two wrong passwords.
        first, second = self.data.get("password1", ""), self.data.get("password2", "")
        if first and second and first != second and not self.has_error("password2"):
            self.add_error("password2", "The two passwords are not the same.")
        if self.has_error("password1") or self.has_error("password2"):
            # Browsers never get a password back in the page: say so, instead of clearing
            # both fields without a word.
            self.add_error(
                None,
                "For your safety, both password fields were emptied: "
                "type your password in both again.",
            )
        return cleaned_data

    def try_save(self, request):
        if self.account_already_exists:
            # A new account costs a password hash; a taken address must cost the same, or
            # the answer's time tells that the address is registered.
            make_password(self.cleaned_data.get("password1"))
        return super().try_save(request)


class ResetPasswordForm(_SiteWording, allauth_forms.ResetPasswordForm):
    labels = {"email": "Email"}

    def save(self, request, **kwargs) -> str:
        """The same answer every time; the mail goes out only while the address has not
        had RATE_LIMITS["reset_password_mail"] of them lately. The links already sent still
        work, so a stranger's requests neither flood the owner's inbox nor use up their reset."""
        email = self.cleaned_data["email"]
        if ratelimit.consume(
            context.request, app="allauth.account", action="reset_password_mail", key=email.lower()
        ):
            return super().save(request, **kwargs)
        return email


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

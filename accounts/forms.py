"""Forms of the public account pages. Validation only; writes go through accounts.services."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm

from accounts.models import User
from notifications.models import NotificationPreferences

ADULT_LABEL = "I am 18 or older"
TERMS_LABEL = "I accept the terms of use"
TERMS_HELP = 'Read the <a href="/terms/">terms of use</a> and the <a href="/privacy/">privacy page</a>.'


def _adult_field() -> forms.BooleanField:
    return forms.BooleanField(label=ADULT_LABEL, error_messages={"required": "Confirm that you are 18 or older."})


def _terms_field() -> forms.BooleanField:
    return forms.BooleanField(label=TERMS_LABEL, help_text=TERMS_HELP,
                              error_messages={"required": "Accept the terms of use to go on."})  # fmt: skip


class RegisterForm(UserCreationForm):
    email = forms.EmailField(help_text="We send a confirmation link to this address.")
    adult = _adult_field()
    terms = _terms_field()

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists. Try signing in.")
        return email


class TermsForm(forms.Form):
    """18+ and the current terms, asked once of an account that has not accepted them (accounts.terms)."""

    adult = _adult_field()
    terms = _terms_field()


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("display_name", "bio", "profile_color", "show_stats")
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 4, "maxlength": 500}),
            "profile_color": forms.TextInput(attrs={"type": "color"}),
        }
        labels = {"show_stats": "Show my profile publicly"}


class PreferencesForm(forms.ModelForm):
    """The six toggles; the Telegram one only where the site has a bot (otherwise it would promise nothing)."""

    class Meta:
        model = NotificationPreferences
        fields = NotificationPreferences.TOGGLES
        labels = {
            "wager_race_updates": "Wager race updates",
            "vip_status_changes": "VIP status changes",
            "promotional_offers": "Promotional offers",
            "monthly_statements": "Monthly statements",
            "email_notifications": "Email notifications",
            "push_notifications": "Telegram notifications",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not settings.TELEGRAM_BOT_TOKEN:
            del self.fields["push_notifications"]


class GoatedClaimForm(forms.Form):
    goated_name = forms.CharField(
        max_length=64, label="Your Goated username", help_text="Exactly as it appears on Goated.com."
    )


class NewsletterForm(forms.Form):
    email = forms.EmailField()

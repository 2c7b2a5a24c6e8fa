"""Account pages: register, sign in/out, password reset, email verification, settings, claims, the newsletter form."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from accounts import erasure, privacy, selfexclusion, services, telegram_login, terms
from accounts.forms import GoatedClaimForm, NewsletterForm, PreferencesForm, ProfileForm, RegisterForm, TermsForm
from accounts.models import SelfExclusion
from accounts.two_factor import (
    totp_confirm,
    totp_device_pending,
    totp_qr_svg,
    totp_secret_text,
    two_factor_enrolled,
    two_factor_verify,
)
from core.errors import ServiceError
from core.models import AuditEntry
from core.ratelimit import password_brake, password_braked, posted_username
from notifications.newsletter import newsletter_subscribe as newsletter_subscribe_address
from notifications.services import notification_preferences_get
from races.feed.names import ANONYMOUS, display_of, masked

# Documented in docs/site.md (Accounts): per client IP.
LOGIN_RATE = "10/m"
REGISTER_RATE = "5/h"
RESET_RATE = "5/h"
NEWSLETTER_RATE = "10/h"
# The same answer for every address (new, pending, subscribed or unsubscribed): the form tells a stranger nothing.
NEWSLETTER_CHECK_INBOX = (
    "Almost done: check your inbox. We sent a link to confirm the subscription (unless the address is already "
    "subscribed); nothing is sent to it until it is opened."
)
RESEND_RATE = "5/h"
TWO_FACTOR_RATE = "10/m"


@method_decorator(ratelimit(key="ip", rate=LOGIN_RATE, method="POST", block=True), name="post")
@method_decorator(password_braked(posted_username), name="post")  # per username, shared with every entry point
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("home")

    def post(self, request, *args, **kwargs):
        was_signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_signed_in:  # after logout: the new, empty session carries the message to the next page
            messages.success(request, "You are signed out.")
        return response


@method_decorator(ratelimit(key="ip", rate=RESET_RATE, method="POST", block=True), name="post")
class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "emails/password_reset.txt"
    subject_template_name = "emails/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@ratelimit(key="ip", rate=REGISTER_RATE, method="POST", block=True)
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:settings")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_register(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            adult=form.cleaned_data["adult"],
            terms=form.cleaned_data["terms"],
            request=request,
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}! We sent a confirmation link to {user.email}.")
        return redirect("accounts:settings")
    return render(request, "accounts/register.html", {"form": form})


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.email_verify(token)
    except ServiceError as exc:
        return render(request, "accounts/verify_email.html", {"error": exc.message}, status=400)
    return render(request, "accounts/verify_email.html", {"verified_user": user})


@login_required
@require_POST
@ratelimit(key="user", rate=RESEND_RATE, method="POST", block=True)
def resend_verification(request: HttpRequest) -> HttpResponse:
    if request.user.email_verified:
        messages.info(request, "Your email address is already confirmed.")
    else:
        services.email_verification_send(request.user, request)
        messages.success(request, f"We sent a new confirmation link to {request.user.email}.")
    return redirect("accounts:settings")


@login_required
def terms_accept(request: HttpRequest) -> HttpResponse:
    """18+ and the current terms, once (accounts.terms): the gate sends a player here until they accept."""
    target = _local_url(request, request.POST.get("next") or request.GET.get("next") or "/", "/")
    if not terms.terms_pending(request.user):
        return HttpResponseRedirect(target)
    form = TermsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        terms.terms_accept(request.user, adult=form.cleaned_data["adult"], accepted=form.cleaned_data["terms"])
        messages.success(request, "Thank you. You're all set.")
        return HttpResponseRedirect(target)
    context = {"form": form, "next": target, "version": terms.TERMS_VERSION,
               "updated": bool(request.user.terms_version)}  # fmt: skip
    return render(request, "accounts/terms_accept.html", context, status=400 if request.method == "POST" else 200)


@ratelimit(key="ip", rate=LOGIN_RATE, method="POST", block=True)
def break_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The page the bot's /break link opens: the link names the account, its password confirms the break."""
    try:
        user = selfexclusion.self_exclusion_link_user(token)
    except ServiceError as exc:
        return render(request, "accounts/break_confirm.html", {"error": exc.message}, status=400)
    error = None
    if request.method == "POST":
        password_brake(request, user.get_username())  # the same per-account brake as sign-in
        try:
            selfexclusion.self_exclusion_start_from_link(
                token, request.POST.get("period", ""), password=request.POST.get("password", "")
            )
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(request, "Done. Take care — rewards, entries and promotions are closed until it ends.")
            return redirect("accounts:settings" if request.user == user else "home")
    context = {"account": user, "periods": SelfExclusion.Period.choices, "error": error,
               "chosen": request.POST.get("period", "")}  # fmt: skip
    return render(request, "accounts/break_confirm.html", context, status=400 if error else 200)


# The privacy sections of the settings page: (what the form does, what to say when it is done, where to go next).
PRIVACY_ACTIONS = {
    "privacy": (
        lambda user, data: privacy.name_display_set(user, data.get("name_display", ""), source=SITE),
        "Saved: your name appears that way everywhere within a minute.", "accounts:settings",
    ),
    "self_exclusion": (
        lambda user, data: selfexclusion.self_exclusion_start(
            user, data.get("period", ""), password=data.get("password", ""), source=SITE
        ),
        "Done. Take care — rewards, entries and promotions are closed until it ends.", "accounts:settings",
    ),
    "erase": (
        lambda user, data: erasure.account_erase(user, password=data.get("password", ""), source=SITE),
        "Your personal data is erased and the account is closed. Take care.", "home",
    ),
}  # fmt: skip
SITE = AuditEntry.Source.SERVICE


@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    prefs = notification_preferences_get(user)
    profile_form = ProfileForm(instance=user, prefix="profile")
    prefs_form = PreferencesForm(instance=prefs, prefix="prefs")
    claim_form = GoatedClaimForm(prefix="claim")
    if request.method == "POST":
        section = request.POST.get("section")
        saved = {"profile": "Profile saved.", "prefs": "Notification preferences saved."}
        if section in saved:
            form_class, instance = (ProfileForm, user) if section == "profile" else (PreferencesForm, prefs)
            form = form_class(request.POST, instance=instance, prefix=section)
            if form.is_valid():
                form.save()
                messages.success(request, saved[section])
                return redirect("accounts:settings")
            profile_form, prefs_form = (form, prefs_form) if section == "profile" else (profile_form, form)
        elif section in PRIVACY_ACTIONS:
            act, done, to = PRIVACY_ACTIONS[section]
            try:
                act(user, request.POST)
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                if section == "erase":
                    logout(request)
                messages.success(request, done)
                return redirect(to)
        elif section == "claim":
            claim_form = GoatedClaimForm(request.POST, prefix="claim")
            if claim_form.is_valid():
                try:
                    services.goated_claim_request(user, claim_form.cleaned_data["goated_name"], request)
                except ServiceError as exc:
                    claim_form.add_error("goated_name", exc.message)
                else:
                    messages.success(request, "Request sent. Staff check it against the feed and answer soon.")
                    return redirect("accounts:settings")
        else:
            messages.error(request, "Unknown form section; nothing was changed.")
    context = {
        "profile_form": profile_form,
        "prefs_form": prefs_form,
        "claim_form": claim_form,
        "telegram_link": _telegram_link(user),
        "name_display": _name_display_options(user),
        "exclusion": selfexclusion.self_exclusion_active(user),
        "exclusion_periods": SelfExclusion.Period.choices,
    }
    return render(request, "accounts/settings.html", context, status=400 if request.method == "POST" else 200)


def _name_display_options(user) -> dict | None:
    """The choices with what each looks like for this player, and the current one (None without a player)."""
    choice = privacy.name_display_of(user)
    if choice is None:
        return None
    name = user.player.name
    options = [("full", "My Goated name", name), ("masked", "Masked", masked(name)), ("hidden", "Hidden", ANONYMOUS)]
    return {"options": options, "current": display_of(choice)}


def _telegram_link(user) -> str | None:
    """The t.me deep link for linking Telegram, when the bot is configured and the account is not linked yet."""
    if user.telegram_id or not settings.TELEGRAM_BOT_USERNAME or not settings.TELEGRAM_BOT_TOKEN:
        return None
    return f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start={services.telegram_link_token_issue(user)}"


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(key="ip", rate=NEWSLETTER_RATE, method="POST", block=True)
def newsletter_subscribe(request: HttpRequest) -> HttpResponse:
    """GET: the sign-up page (the footer links here for visitors, so public pages carry no per-request CSRF token
    and revalidate with a 304); POST: subscribe, then back to where the form was."""
    if request.method != "POST":
        return render(request, "accounts/newsletter.html", {"form": NewsletterForm()})
    form = NewsletterForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a valid email address to subscribe.")
    else:
        newsletter_subscribe_address(form.cleaned_data["email"])  # double opt-in: only the emailed link subscribes
        messages.success(request, NEWSLETTER_CHECK_INBOX)
    return HttpResponseRedirect(_safe_back(request))


def _local_url(request: HttpRequest, target: str, default: str) -> str:
    """`target` if it is a path or URL of this site (never another host, never a giant value), else `default`."""
    ok = len(target) <= 2000 and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if ok and (target.startswith("/") or "://" in target) else default


def _safe_back(request: HttpRequest) -> str:
    return _local_url(request, request.POST.get("next") or request.headers.get("Referer") or "/", "/")


@require_POST
@ratelimit(key="ip", rate=LOGIN_RATE, method="POST", block=True)
def telegram_login_view(request: HttpRequest) -> HttpResponse:
    """The sign-in page's script posts the Login Widget's signed fields here (never in a URL, and with the CSRF
    token, so no one can sign a visitor into their account); sign in the site user linked to that Telegram id."""
    try:
        user = telegram_login.telegram_login_user(request.POST.dict())
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:login")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, f"Signed in with Telegram as {user.username}.")
    return redirect("home")


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    services.user_sign_out_everywhere(request.user)
    logout(request)
    messages.success(request, "You are signed out everywhere: every session and API token has stopped working.")
    return redirect("accounts:login")


# --- staff two-factor sign-in -------------------------------------------------------------------------------------


def _next_admin(request: HttpRequest) -> str:
    return _local_url(request, request.POST.get("next") or request.GET.get("next") or "/admin/", "/admin/")


@login_required
@ratelimit(key="user", rate=TWO_FACTOR_RATE, method="POST", block=True)
def two_factor(request: HttpRequest) -> HttpResponse:
    """The second factor for this session (staff): a code from the app, or a recovery code."""
    if not request.user.is_staff:
        return redirect("home")
    if not two_factor_enrolled(request.user):
        return redirect(f"{reverse('accounts:two-factor-setup')}?next={quote(_next_admin(request))}")
    error = None
    if request.method == "POST":
        try:
            two_factor_verify(request, request.POST.get("token", ""))
        except ServiceError as exc:
            error = exc.message
        else:
            return HttpResponseRedirect(_next_admin(request))
    context = {"next": _next_admin(request), "error": error}
    return render(request, "accounts/two_factor_verify.html", context, status=400 if error else 200)


@login_required
@ratelimit(key="user", rate=TWO_FACTOR_RATE, method="POST", block=True)
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app (staff without one); shows the recovery codes once it is confirmed."""
    if not request.user.is_staff:
        return redirect("home")
    if two_factor_enrolled(request.user):
        return redirect(f"{reverse('accounts:two-factor')}?next={quote(_next_admin(request))}")
    device = totp_device_pending(request.user)
    error, codes = None, None
    if request.method == "POST":
        try:
            codes = totp_confirm(request, device, request.POST.get("token", ""))
        except ServiceError as exc:
            error = exc.message
    context = {
        "next": _next_admin(request),
        "error": error,
        "codes": codes,
        "qr": totp_qr_svg(device),
        "secret": totp_secret_text(device),
        "secret_raw": totp_secret_text(device).replace(" ", ""),
    }
    return render(request, "accounts/two_factor_setup.html", context, status=400 if error else 200)

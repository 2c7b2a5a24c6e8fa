"""Erasure (issue 35): `DELETE /api/v1/me/` with the password forgets a person and keeps what must be kept.

Personal data is erased: the account's identity (username → a tombstone, email, names, bio, Telegram, password,
sessions, API tokens, 2FA devices, link tokens), its preferences, notifications and newsletter rows, its Telegram
bot record, the text of its support tickets (support receives accounts.signals.account_erased). Records the operator
must keep — payouts, claims, spins, results, raffle entries, audit rows — stay, attached to the account now named by
its pseudonym (`erased-<id>`); inside audit rows the personal values (the actor label, the account's own fields in
before/after) are replaced by the pseudonym: the one rewrite of audit rows ever allowed, itself audited. The linked
feed player is unlinked and hidden for good (the person asked to be forgotten). The account can no longer sign in.

ERASED and KEPT say, field by field, what happens to every field of the account; tests/accounts/test_erasure.py
fails when a field of the user model is in neither.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import TelegramLinkToken, User, VerificationRequest
from accounts.signals import account_erased
from core.audit import audit_record
from core.errors import ServiceError
from core.models import AuditEntry
from notifications.models import BotUser, EmailLog, NewsletterSubscription, Notification, NotificationPreferences
from races.feed.models import Player

# Every field of the user model: erased (set to the value here, or a callable of the user) or kept, with why.
ERASED = {
    "username": lambda user: pseudonym_of(user),
    "email": lambda user: f"{pseudonym_of(user)}@erased.invalid",  # unique and never deliverable
    "first_name": "", "last_name": "", "display_name": "", "bio": "", "profile_color": "#D7FF00",
    "telegram_id": None, "telegram_username": "", "player": None, "show_stats": False, "email_verified": False,
    "last_active": None, "is_active": False, "password": "!", "last_login": None,
}  # fmt: skip
KEPT = {
    "id": "the pseudonymous reference of every record kept",
    "date_joined": "when the account existed: kept with the records (not personal on its own)",
    "is_staff": "a role, not personal data",
    "is_superuser": "a role, not personal data",
    "verification_status": "whether a claim was approved: kept with the claim records",
    "sessions_epoch": "raised to end every session, not personal",
    "self_excluded_until": "a responsible-play decision the operator must keep honouring",
    "adult_confirmed_at": "the record that the person said they were 18 or older (the operator must show it)",
    "terms_version": "which terms the account was used under",
    "terms_accepted_at": "when those terms were accepted",
}
# Every other model that references the account or its linked player (and the player itself), field by field:
# its rows are deleted (every field goes), or kept with each field either erased in place (by account_erase or a
# receiver of accounts.signals.account_erased) or kept for the reason given. tests/accounts/test_erasure.py lists
# every such field of every model (django.apps) and fails on one that is in none of these.
ROWS_DELETED = {
    "authtoken.Token": "API tokens: they would sign the person in",
    "otp_totp.TOTPDevice": "a second factor of the account", "otp_static.StaticDevice": "recovery codes",
    "accounts.TelegramLinkToken": "one-time link codes",
    "notifications.NotificationPreferences": "the person's choices", "notifications.Notification": "messages to them",
    "growth.CampaignTouch": "which campaign link the person clicked (growth.attribution.account_erased_received)",
}  # fmt: skip
RELATED_ERASED = {  # rewritten in place
    "admin.LogEntry": {"object_repr"},  # the account's name in admin's history → the pseudonym
    "core.AuditEntry": {"actor_label", "target_repr", "before", "after", "note"},  # _audit_rewrite
    "accounts.VerificationRequest": {"telegram_id", "telegram_username", "admin_notes"},
    "support.SupportTicket": {"subject", "description"},  # support.receivers.account_erased
    "support.TicketMessage": {"body"},
    "races.Player": {"name_display"},  # hidden for good
    "experiments.Exposure": {"user"},  # experiments.receivers: the exposure stays, anonymous
}
_STAFF = "a staff member's record (the account only as the staff member who made it); not about a player"
_MONEY = "a record the operator must keep (money, prizes, provable fairness), under the pseudonymous account"
RELATED_KEPT = {
    "experiments.Exposure": ("an experiment's count: a hash of a cookie id, no longer tied to the account",
                             {"id", "experiment", "variant", "visitor", "created_at"}),
    "growth.PlayerAttribution": ("which campaign brought a feed player (a count per campaign; the player is hidden)",
                                 {"id", "player", "campaign", "clicked_at", "attributed_at"}),
    "growth.PlayerWagerSnapshot": ("the feed's daily all-time figure, like the player's own counters",
                                   {"id", "player", "day", "all_time"}),
    "admin.LogEntry": ("admin's history of staff actions", {"id", "action_time", "user", "content_type",
                       "object_id", "action_flag", "change_message"}),
    "core.AuditEntry": ("the audit trail must survive; its personal values are rewritten", {"id", "actor", "action",
                        "source", "target_type", "target_id", "created_at"}),
    "accounts.VerificationRequest": ("why the account was linked (the claim record): the Goated name is the feed's",
                                     {"id", "user", "goated_name", "player", "source", "status", "decided_by",
                                      "decided_at", "requested_at"}),
    "accounts.SelfExclusion": ("a responsible-play decision the operator must keep honouring and show",
                               {"id", "user", "period", "starts_at", "ends_at", "lifted_at", "lifted_by",
                                "lift_reason", "end_announced_at"}),
    "support.SupportTicket": ("the operator's support history, without the person's text",
                              {"id", "user", "assigned_to", "status", "priority", "created_at", "updated_at",
                               "closed_at"}),
    "support.TicketMessage": ("the thread's shape (staff replies are the staff's)", {"id", "ticket", "author",
                              "is_staff_reply", "created_at"}),
    "races.Player": ("the affiliate feed's row: the casino sends it on every sync (never shown publicly again: "
                     "hidden)", {"id", "uid", "name", "hidden_until", "wager_today", "wager_week", "wager_month",
                                 "wager_all_time", "first_seen", "last_seen", "updated_at"}),
    "races.PlayerRank": ("ranks computed from the feed", {"player", "rank_today", "rank_weekly", "rank_monthly",
                         "rank_all_time"}),
    "races.RaceParticipant": (_MONEY, {"id", "race", "player", "wagered", "measured", "adjustment",
                              "baseline_all_time", "rank", "prize_eligible", "joined_at", "updated_at"}),
    "races.RaceResult": (_MONEY + "; the name is the feed's, shown only through the public-name rule",
                         {"id", "race", "player", "rank", "name", "uid", "wagered", "prize", "prize_eligible",
                          "notified_at", "created_at"}),
    "races.WagerAdjustment": (_MONEY, {"id", "race", "player", "amount", "reason", "created_by", "created_at",
                              "status", "reviewed_by", "reviewed_at"}),
    "races.RaceEntry": (_MONEY, {"id", "race", "player", "user", "source", "joined_at"}),
    "races.FeedCredential": (_STAFF, {"id", "token_encrypted", "fingerprint", "expires_at", "warned_24h_at",
                             "warned_2h_at", "created_by", "created_at"}),
    "payouts.Payout": (_MONEY + "; the destination is where the prize went", {"id", "source", "result", "race",
                       "raffle_winner", "raffle", "player", "amount", "method", "destination", "status", "reference",
                       "note", "approved_by", "approved_at", "paid_by", "paid_at", "send_key", "created_at",
                       "updated_at"}),
    "vip.BonusCode": (_MONEY, {"id", "code", "description", "amount", "required_wager", "required_wager_period",
                      "claim_limit", "claims_count", "expires_at", "is_active", "audience", "min_tier", "owner",
                      "source", "batch", "created_by", "created_at"}),
    "vip.BonusCodeClaim": (_MONEY, {"id", "code", "user", "batch", "claimed_at"}),
    "vip.WheelSeed": (_MONEY, {"id", "user", "day", "server_seed", "server_seed_hash", "created_at"}),
    "vip.WheelSpin": (_MONEY + "; the client seed is part of the proof", {"id", "user", "player", "spin_date",
                      "segment", "server_seed", "server_seed_hash", "client_seed", "nonce", "roll", "segment_table",
                      "reward_code", "created_at"}),
    "giveaways.RaffleEntry": (_MONEY, {"id", "raffle", "player", "user", "baseline_all_time", "measured", "tickets",
                              "in_draw", "entered_at", "updated_at"}),
    "giveaways.RaffleWinner": (_MONEY + "; the name is the feed's, shown only through the public-name rule",
                               {"id", "raffle", "position", "player", "uid", "name", "tickets", "prize",
                                "notified_at", "created_at"}),
    "giveaways.Raffle": (_STAFF, None),
    "notifications.Broadcast": (_STAFF, None),
    "overlays.OverlayLink": (_STAFF, None),
    "growth.Campaign": (_STAFF, None),
}  # fmt: skip
# Keys of the account's own fields inside audit rows (before/after) that are personal.
PERSONAL_KEYS = {"username", "email", "first_name", "last_name", "display_name", "bio", "telegram_id",
                 "telegram_username", "goated_name", "destination", "name"}  # fmt: skip


def pseudonym_of(user: User) -> str:
    return f"erased-{user.pk}"


def _scrub(data, pseudonym: str):
    if isinstance(data, dict):
        return {
            key: pseudonym if key in PERSONAL_KEYS and value not in (None, "") else _scrub(value, pseudonym)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [_scrub(v, pseudonym) for v in data]
    return data


def _audit_rewrite(user: User, old_names: set[str], pseudonym: str) -> int:
    """Replace the person's values inside audit rows that name them (as actor or as subject)."""
    about = Q(actor=user) | Q(target_type=User._meta.label_lower, target_id=str(user.pk))
    rewritten = 0
    for entry in AuditEntry.objects.filter(about):
        entry.actor_label = pseudonym if entry.actor_id == user.pk else entry.actor_label
        if entry.target_type == User._meta.label_lower and entry.target_id == str(user.pk):
            entry.target_repr = pseudonym
        entry.before, entry.after = _scrub(entry.before, pseudonym), _scrub(entry.after, pseudonym)
        for name in old_names:
            if name and name in entry.note:
                entry.note = entry.note.replace(name, pseudonym)
        entry.save(update_fields=["actor_label", "target_repr", "before", "after", "note"])
        rewritten += 1
    return rewritten


@transaction.atomic
def account_erase(user: User, *, password: str, source: str = AuditEntry.Source.API) -> str:
    """Erase the signed-in person's data after checking their password; returns the pseudonym."""
    if not password or not user.check_password(password):
        raise ServiceError("That is not your password.", fields={"password": ["Wrong password."]})
    user = User.objects.select_for_update().get(pk=user.pk)
    pseudonym = pseudonym_of(user)
    old = {user.username, user.email, user.display_name, user.telegram_username}
    player_id, telegram_id, email = user.player_id, user.telegram_id, user.email
    for field, value in ERASED.items():
        setattr(user, field if field != "player" else "player_id", value(user) if callable(value) else value)
    user.set_unusable_password()
    user.sessions_epoch += 1
    user.save()
    Token.objects.filter(user=user).delete()
    TelegramLinkToken.objects.filter(user=user).delete()
    for device_model in _otp_device_models():
        device_model.objects.filter(user=user).delete()
    NotificationPreferences.objects.filter(user=user).delete()
    Notification.objects.filter(user=user).delete()
    NewsletterSubscription.objects.filter(email__iexact=email).delete()
    EmailLog.objects.filter(to__iexact=email).update(to=f"{pseudonym}@erased.invalid")
    if telegram_id:
        BotUser.objects.filter(telegram_id=telegram_id).delete()
    VerificationRequest.objects.filter(user=user).update(telegram_id=None, telegram_username="", admin_notes="")
    if player_id is not None:
        Player.objects.filter(pk=player_id).update(name_display="hidden")
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)).update(
        object_repr=pseudonym
    )
    account_erased.send(sender=User, user=user, pseudonym=pseudonym)
    rewritten = _audit_rewrite(user, old, pseudonym)
    audit_record(actor=None, action="account.erase", target=user, after={"pseudonym": pseudonym,
                 "audit_rows_rewritten": rewritten, "at": timezone.now().isoformat()}, source=source)  # fmt: skip
    return pseudonym


def _otp_device_models():
    return [apps.get_model(label) for label in ("otp_totp.TOTPDevice", "otp_static.StaticDevice")]

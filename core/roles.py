"""Staff roles: the one place that says what each admin group may do.

The data migration `accounts.0002_staff_groups` creates the groups; `roles_sync` (run after every `migrate`)
keeps their permissions equal to this table, so a model added later gets its permissions by adding a line
here. Anything not listed is denied (least privilege).
"""

from __future__ import annotations

OPERATORS = "Operators"
SUPPORT = "Support"

# What a staff member must hold to act in each role, checked by the predicates below (never a list of names).
SUPPORT_STAFF_PERMISSION = "support.view_supportticket"
VERIFICATION_REVIEW_PERMISSION = "accounts.change_verificationrequest"
BROADCAST_PERMISSION = "notifications.add_broadcast"

# Each staff command (and button) of the bot needs the permission of its admin twin, so a role may do in the bot
# exactly what it may do in admin: the review queue and its decisions are Verification requests → change, and
# /broadcast is Broadcasts → add (Operators hold it, Support does not).
BOT_COMMAND_PERMISSIONS: dict[str, str] = {
    "pending": VERIFICATION_REVIEW_PERMISSION,
    "approve": VERIFICATION_REVIEW_PERMISSION,
    "reject": VERIFICATION_REVIEW_PERMISSION,
    "verif": VERIFICATION_REVIEW_PERMISSION,  # the ✅/❌ buttons under /pending
    "broadcast": BROADCAST_PERMISSION,
}

ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    OPERATORS: {
        "races.player": ("view", "change"),
        "races.wagerrace": ("view", "add", "change", "delete"),
        "races.raceparticipant": ("view",),
        "races.raceresult": ("view",),
        "races.historicalrace": ("view",),
        "races.raceprogresssample": ("view",),
        "races.transformationlog": ("view", "change"),
        "payouts.payout": ("view", "change"),
        "races.wageradjustment": ("view", "add"),
        "races.raceentry": ("view",),
        "races.feedcredential": ("view", "add"),
        "vip.viptier": ("view", "add", "change", "delete"),
        "vip.bonuscode": ("view", "add", "change", "delete"),
        "vip.bonuscodeclaim": ("view",),
        "vip.wheelsegment": ("view", "add", "change", "delete"),
        "vip.wheelspin": ("view",),
        "accounts.user": ("view", "change"),
        "notifications.notificationpreferences": ("view",),
        "notifications.notification": ("view", "add"),
        "notifications.newslettersubscription": ("view", "change"),
        "support.supportticket": ("view", "change"),
        "support.ticketmessage": ("view", "add"),
        "support.cannedreply": ("view", "add", "change", "delete"),  # operators keep the set
        "accounts.verificationrequest": ("view", "change"),
        "notifications.botuser": ("view",),
        "notifications.broadcast": ("view", "add"),
        "notifications.emaillog": ("view",),  # emails sent once per key; "uncertain" ones need a person
        "accounts.telegramlinktoken": ("view",),
        "core.auditentry": ("view",),
        "waffle.switch": ("view", "change"),
        "giveaways.raffle": ("view", "add", "change"),  # cancelled, never deleted (the seed was committed)
        "giveaways.raffleentry": ("view",),
        "giveaways.rafflewinner": ("view",),
        "overlays.overlaylink": ("view", "add", "change"),  # stream overlays: revoke and rotate are changes
        "growth.campaign": ("view", "add", "change", "delete"),
        "growth.referralclickday": ("view",),
        "experiments.experiment": ("view", "add", "change", "delete"),  # delete: drafts only (admin refuses more)
        "experiments.variant": ("view", "add", "change", "delete"),
        "experiments.exposure": ("view",),
        "experiments.conversion": ("view",),
        "growth.visitday": ("view",),  # the funnel's visits
        "growth.campaigntouch": ("view",),
        "growth.playerattribution": ("view",),
        "growth.playerwagersnapshot": ("view",),  # cohorts and prize ROI
    },
    SUPPORT: {
        "support.supportticket": ("view", "change"),
        "support.ticketmessage": ("view", "add"),
        "support.cannedreply": ("view",),  # picked in the reply box
        "accounts.verificationrequest": ("view", "change"),
        "accounts.user": ("view",),
        "races.player": ("view",),
    },
}


def roles_sync(*, apps=None, verbosity: int = 0, **_kwargs) -> None:
    """Create the groups if missing and set their permissions to exactly the table above."""
    from django.apps import apps as global_apps

    apps = apps or global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, spec in ROLES.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = []
        for label, actions in spec.items():
            app_label, model = label.split(".")
            for action in actions:
                perm = Permission.objects.filter(
                    content_type__app_label=app_label, codename=f"{action}_{model}"
                ).first()
                if perm is not None:  # a model not migrated yet gets its permission on a later migrate
                    wanted.append(perm)
        group.permissions.set(wanted)


def _active_staff(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def is_support_staff(user) -> bool:
    """Answers tickets: sees every ticket, and its replies count as staff replies."""
    return _active_staff(user) and user.has_perm(SUPPORT_STAFF_PERMISSION)


def is_verification_reviewer(user) -> bool:
    """Approves or rejects claims to own a Goated player (in admin or with the bot's staff commands)."""
    return _active_staff(user) and user.has_perm(VERIFICATION_REVIEW_PERMISSION)


def may_use_bot_command(user, command: str) -> bool:
    """The staff bot `command` (a key of BOT_COMMAND_PERMISSIONS) is open to `user`: the admin twin's right."""
    return _active_staff(user) and user.has_perm(BOT_COMMAND_PERMISSIONS[command])


def bot_commands_for(user) -> list[str]:
    """The staff bot commands `user` may use, in the table's order (for /help)."""
    return [command for command in BOT_COMMAND_PERMISSIONS if may_use_bot_command(user, command)]

"""The bot follows the site's rules: a switched-off feature is off in the bot too (commands, buttons and the
announcements that point at it), and each staff command asks for the permission of its admin twin, from the one
roles table (`core.roles`). Through the real Dispatcher against the fake Bot API server."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from waffle.models import Switch

from accounts.models import VerificationRequest
from core.features import FEATURES, features_cache_clear
from core.roles import BOT_COMMAND_PERMISSIONS, ROLES
from notifications.models import Broadcast, Notification, NotificationPreferences
from telegram_bot.bot import dispatcher_create
from tests.factories import BonusCodeFactory, StaffFactory, UserFactory, staff_member
from tests.telegram_bot.fake_telegram import button, message
from tests.telegram_bot.test_bot import OTHER_TG, PLAYER_TG, STAFF_TG, goat

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("vip_ladder")]
OFF = "This feature is off for now"


def switch(name: str, active: bool) -> None:
    Switch.objects.update_or_create(name=name, defaults={"active": active})
    features_cache_clear()


def answers(tg) -> list[str]:
    return [c.params.get("text", "") for c in tg.calls if c.method == "answerCallbackQuery"]


# --- feature switches -----------------------------------------------------------------------------------------


def test_bonus_codes_switched_off_are_off_in_the_bot_command_and_button_and_back_when_on(tg, feed_updates):
    BonusCodeFactory(code="EVERYONE5", audience="everyone")
    switch("bonus_codes", False)
    feed_updates(message("/bonuscodes", user_id=PLAYER_TG), button(f"go:codes:{PLAYER_TG}", user_id=PLAYER_TG))
    assert OFF in tg.last(PLAYER_TG)
    assert not any("EVERYONE5" in text for text in tg.sent(PLAYER_TG))
    assert OFF in answers(tg)[-1]
    switch("bonus_codes", True)
    feed_updates(message("/bonuscodes", user_id=PLAYER_TG))
    assert "EVERYONE5" in tg.last(PLAYER_TG)


def test_a_switched_off_feature_leaves_the_other_commands_and_buttons_alone(tg, feed_updates):
    switch("bonus_codes", False)
    switch("wheel", False)
    goat()
    feed_updates(message("/leaderboard", user_id=PLAYER_TG), button(f"go:stats:{PLAYER_TG}", user_id=PLAYER_TG))
    assert not any(OFF in text for text in tg.sent(PLAYER_TG))
    assert "Top 10 this month" in tg.sent(PLAYER_TG)[0]


def test_every_feature_flag_on_a_bot_handler_names_a_feature_switch():
    """A flag with a typo would gate nothing: every flagged handler names a row of core.features.FEATURES, and
    the bonus-code command and button are flagged."""
    dp = dispatcher_create()
    flagged = {}
    for router in dp.chain_tail:
        for observer in (router.message, router.callback_query):
            for handler in observer.handlers:
                if "feature" in handler.flags:
                    flagged.setdefault(handler.flags["feature"], []).append(handler)
    assert set(flagged) <= set(FEATURES)
    assert len(flagged["bonus_codes"]) == 2  # /bonuscodes and the 🎁 Codes button


def test_a_new_bonus_code_is_not_announced_while_bonus_codes_are_off(tg):
    from vip.models import VipTier
    from vip.services import bonus_code_announce

    gold = VipTier.objects.get(name="Gold")
    fan = UserFactory(player=goat("Goldie", wager_all_time=Decimal("150000")))
    NotificationPreferences.objects.create(user=fan, promotional_offers=True)  # they take promotions
    code = BonusCodeFactory(code="GOLDNEW", min_tier=gold)
    switch("bonus_codes", False)
    assert bonus_code_announce(code.pk) == 0
    assert not Notification.objects.exists()
    switch("bonus_codes", True)
    assert bonus_code_announce(code.pk) == 1


# --- staff commands ask for their admin twin's permission ------------------------------------------------------


def _linked(user, telegram_id: int):
    user.telegram_id = telegram_id
    user.save(update_fields=["telegram_id"])
    return user


def test_support_may_not_broadcast_in_the_bot_as_in_admin_but_an_operator_may(tg, feed_updates, client, settings):
    settings.TELEGRAM_BROADCAST_PER_SECOND = 1000
    fan = UserFactory(telegram_id=70_001, verification_status="verified")
    support = _linked(staff_member("Support"), STAFF_TG)
    operator = _linked(staff_member("Operators"), OTHER_TG)
    client.force_login(support)
    assert client.get("/admin/notifications/broadcast/add/").status_code == 403  # the admin twin
    feed_updates(message("/broadcast Free money!", user_id=STAFF_TG))
    assert "for staff" in tg.last(STAFF_TG)
    assert not Broadcast.objects.exists()
    assert tg.sent(fan.telegram_id) == []
    feed_updates(message("/broadcast New race!", user_id=OTHER_TG))
    assert "Broadcast done: 1 sent" in tg.last(OTHER_TG)
    assert Broadcast.objects.get().created_by == operator
    assert tg.sent(fan.telegram_id) == ["New race!"]


def test_help_lists_only_the_staff_commands_of_the_senders_role(tg, feed_updates):
    _linked(staff_member("Support"), STAFF_TG)
    _linked(staff_member("Operators"), OTHER_TG)
    feed_updates(message("/help", user_id=STAFF_TG), message("/help", user_id=OTHER_TG))
    assert "/pending" in tg.last(STAFF_TG)
    assert "/broadcast" not in tg.last(STAFF_TG)
    assert "/pending" in tg.last(OTHER_TG)
    assert "/broadcast" in tg.last(OTHER_TG)


STAFF_COMMANDS = {
    "pending": lambda pk: message("/pending", user_id=PLAYER_TG),
    "approve": lambda pk: message(f"/approve {pk}", user_id=PLAYER_TG),
    "reject": lambda pk: message(f"/reject {pk} nope", user_id=PLAYER_TG),
    "verif": lambda pk: button(f"verif:approve:{pk}", user_id=PLAYER_TG),
    "broadcast": lambda pk: message("/broadcast hi all", user_id=PLAYER_TG),
}


def _role_user(role: str):
    if role == "player":
        return UserFactory(verification_status="verified")
    if role == "superuser":
        return StaffFactory()
    return staff_member(role)


def _role_holds(role: str, permission: str) -> bool:
    """What the roles table (the one source of truth) says `role` may do."""
    if role in ("player", "superuser"):
        return role == "superuser"
    app_label, codename = permission.split(".")
    action, _, model = codename.partition("_")
    return action in ROLES[role].get(f"{app_label}.{model}", ())


@pytest.mark.parametrize("role", ["player", "Support", "Operators", "superuser"])
@pytest.mark.parametrize("command", sorted(BOT_COMMAND_PERMISSIONS))
def test_each_staff_command_is_open_exactly_to_the_roles_the_table_gives_its_permission(
    tg, feed_updates, settings, command, role
):  # fmt: skip
    settings.TELEGRAM_BROADCAST_PER_SECOND = 1000
    assert set(STAFF_COMMANDS) == set(BOT_COMMAND_PERMISSIONS)  # every staff command is tried
    UserFactory(telegram_id=70_002, verification_status="verified")
    claimant = UserFactory(username="claimant")
    player = goat()
    request = VerificationRequest.objects.create(user=claimant, goated_name=player.name, player=player)
    _linked(_role_user(role), PLAYER_TG)
    feed_updates(STAFF_COMMANDS[command](request.pk))
    replies = tg.sent(PLAYER_TG) + answers(tg)
    refused = any("for staff" in text for text in replies)
    assert refused != _role_holds(role, BOT_COMMAND_PERMISSIONS[command]), replies
    if refused:
        assert VerificationRequest.objects.get().status == "pending"
        assert not Broadcast.objects.exists()
        assert tg.sent(70_002) == []


def test_a_staff_member_who_loses_the_group_loses_the_command(tg, feed_updates):
    operator = _linked(staff_member("Operators"), STAFF_TG)
    operator.groups.remove(Group.objects.get(name="Operators"))
    operator.groups.add(Group.objects.get(name="Support"))
    feed_updates(message("/broadcast hi", user_id=STAFF_TG))
    assert "for staff" in tg.last(STAFF_TG)
    assert not Broadcast.objects.exists()

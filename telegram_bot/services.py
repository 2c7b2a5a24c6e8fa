"""The bot's own writes: a staff /broadcast, through the same machinery as the admin's broadcasts (everything else
the bot does is a service of another app: accounts for linking and verification, notifications for delivery)."""

from __future__ import annotations

from accounts.broadcasts import broadcast_compose
from accounts.selectors import player_for, site_user_for
from core.errors import ServiceError
from core.text import tg_html
from notifications.models import Broadcast
from races.models import RaceEntry, WagerRace
from races.services.entries import race_join
from telegram_bot import texts


def broadcast_start(text: str, *, actor, reply_chat: int, key: str) -> tuple[Broadcast, bool]:
    """To verified players on Telegram (those who allow it): the recipients are listed now and a worker sends,
    paced, resumable, once each; the staff chat is told the progress and the outcome. The same command delivered
    again starts nothing new."""
    return broadcast_compose(
        text=text, audience=Broadcast.Audience.VERIFIED, channels=("telegram",), promotional=False, actor=actor,
        key=key, reply_chat=reply_chat,
    )  # fmt: skip


def race_join_from_bot(telegram_id: int, args: str) -> str:
    """/join [race id]: the player linked to this Telegram account joins an opt-in race (the only open one when
    no id is given). The answer, in Telegram HTML."""
    player, user = player_for(telegram_id), site_user_for(telegram_id)
    if player is None:
        return texts.NOT_VERIFIED
    open_races = list(
        WagerRace.objects.filter(
            entry=WagerRace.Entry.OPT_IN, status__in=[WagerRace.Status.UPCOMING, WagerRace.Status.LIVE]
        ).order_by("start_date")[:10]
    )
    raw = (args or "").strip().lstrip("#")
    if raw:
        if not raw.isdigit() or len(raw) > 9:
            return "Send /join followed by the race number, like /join 12."
        race_id = int(raw)
    elif len(open_races) == 1:
        race_id = open_races[0].pk
    elif not open_races:
        return "No race is open for joining right now: in the current races everyone counts."
    else:
        lines = [tg_html("#{} {}", r.pk, r.title) for r in open_races]
        return "Several races are open. Send /join with the number:\n" + "\n".join(lines)
    try:
        entry = race_join(race_id, player=player, user=user, source=RaceEntry.Source.BOT)
    except ServiceError as exc:
        return tg_html("{}", exc.message)
    return tg_html("✅ You're in <b>{}</b>. Your wagers count from now on.", entry.race.title)

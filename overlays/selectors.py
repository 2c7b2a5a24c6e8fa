"""Reading overlay links and what each kind shows (the snapshot a page, its socket and data.json share)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from giveaways import selectors as raffles
from giveaways.models import Raffle
from giveaways.realtime import raffle_group
from overlays.models import OverlayLink
from races.feed.leaderboard import leaderboard_page
from races.models import WagerRace
from races.realtime import LEADERBOARD_GROUP, race_group
from races.selectors import races

TOKEN_MAX = 64
# A raffle link without a raffle shows a draw's winners this long before moving on to the next open raffle.
WINNERS_SHOWN = timedelta(minutes=30)


def overlay_link_active(token: str, kind: str | None = None) -> OverlayLink | None:
    """The link a token opens: None when unknown, revoked, or (with `kind`) of another kind."""
    if not token or len(token) > TOKEN_MAX:
        return None
    links = OverlayLink.objects.filter(token=token, revoked_at__isnull=True)
    if kind is not None:
        links = links.filter(kind=kind)
    return links.select_related("raffle").first()


def overlay_links() -> list[OverlayLink]:
    return list(OverlayLink.objects.select_related("raffle", "created_by"))


# --- what a kind shows ------------------------------------------------------------------------------------------


def overlay_race(link: OverlayLink) -> WagerRace | None:
    """The race a race or ticker overlay follows: the current race (`race_current`) of the link's type."""
    return races.race_current(link.race_type or None)


def _race_data(race: WagerRace | None, n: int) -> dict | None:
    if race is None:
        return None
    _total, rows = races.race_standings(race, limit=n)
    return {
        "id": race.pk,
        "title": race.title,
        "status": race.status,
        "ends_at": race.end_date.isoformat(),
        "time_left_seconds": races.race_time_left(race),
        "prize_pool": str(race.prize_pool),
        "rows": [
            {"rank": r.rank, "uid": r.uid, "name": r.name, "wagered": str(r.wagered), "prize": str(r.prize)}
            for r in rows
        ],
    }


def _next_race(link: OverlayLink) -> dict | None:
    race = races.race_next(link.race_type or None)
    if race is None:
        return None
    return {"title": race.title, "starts_in_seconds": max(int((race.start_date - timezone.now()).total_seconds()), 0)}


def _leaderboard_data(link: OverlayLink) -> dict:
    page = leaderboard_page(link.period, link.n, 0)
    rows = [{k: r[k] for k in ("rank", "uid", "name", "wagered")} for r in page["results"]]
    return {"period": page["period"], "updated_at": page["updated_at"], "rows": rows}


def overlay_raffle(link: OverlayLink, now=None) -> Raffle | None:
    """The link's raffle; without one, a raffle drawn in the last WINNERS_SHOWN (its winners stay on screen), else
    the open raffle ending soonest."""
    if link.raffle_id is not None:
        return link.raffle
    now = now or timezone.now()
    drawn = Raffle.objects.filter(status=Raffle.Status.DRAWN, drawn_at__gte=now - WINNERS_SHOWN)
    recent = drawn.order_by("-drawn_at", "-pk").first()
    if recent is not None:
        return recent
    opened = raffles.raffles_open()
    return opened[0] if opened else None


def _raffle_data(raffle: Raffle | None, n: int) -> dict | None:
    if raffle is None:
        return None
    now = timezone.now()
    winners = raffles.raffle_winners(raffle) if raffle.status == Raffle.Status.DRAWN else []
    return {
        "id": raffle.pk,
        "title": raffle.title,
        "status": raffle.status,
        "ends_at": raffle.ends_at.isoformat(),
        "time_left_seconds": max(int((raffle.ends_at - now).total_seconds()), 0),
        "prize_pool": str(raffle.prize_pool),
        "rows": [
            {"rank": i, "uid": r.uid, "name": r.name, "tickets": r.tickets}
            for i, r in enumerate(raffles.raffle_leaders(raffle, limit=n), start=1)
        ],
        "winners": [
            {"position": w.position, "uid": w.uid, "name": w.public, "tickets": w.tickets, "prize": str(w.prize)}
            for w in winners[:n]
        ],
    }


def overlay_data(link: OverlayLink) -> dict:
    """Everything an overlay page shows, as JSON-ready data: {"kind", "options", and the kind's own keys}."""
    data: dict = {"kind": link.kind, "options": link.options(), "label": link.label}
    if link.kind in (OverlayLink.Kind.RACE, OverlayLink.Kind.TICKER):
        race = overlay_race(link)
        data["race"] = _race_data(race, link.n)
        data["next_race"] = _next_race(link) if race is None else None
    if link.kind in (OverlayLink.Kind.LEADERBOARD, OverlayLink.Kind.TICKER):
        data["leaderboard"] = _leaderboard_data(link)
    if link.kind == OverlayLink.Kind.RAFFLE:
        data["raffle"] = _raffle_data(overlay_raffle(link), link.n)
    return data


def overlay_groups(link: OverlayLink) -> set[str]:
    """The data groups a link's socket listens to (races.realtime and giveaways.realtime name them)."""
    groups: set[str] = set()
    if link.kind in (OverlayLink.Kind.RACE, OverlayLink.Kind.TICKER):
        race = overlay_race(link)
        groups.add(LEADERBOARD_GROUP)  # a sync: the ticker's leaders, and a race that started shows up
        if race is not None:
            groups.add(race_group(race.pk))
    elif link.kind == OverlayLink.Kind.LEADERBOARD:
        groups.add(LEADERBOARD_GROUP)
    else:
        raffle = overlay_raffle(link)
        if raffle is not None:
            groups.add(raffle_group(raffle.pk))
    return groups

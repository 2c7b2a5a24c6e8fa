"""Global ranks per period, stored in PlayerRank by every successful sync (the table's only writer).

Rank = position by wager desc, ties by first seen then uid (DESIGN §5); a player with nothing wagered in a period
is not ranked for it (NULL). Ranks are written as two kinds of change: an UPDATE of the rows whose ranks moved
(and only those: an upsert's ON CONFLICT would lock, so dirty, every row it meets) and an INSERT for ranked
players without a row yet (a missing row reads as "unranked", so unranked newcomers need none). Why the window
has no PARTITION BY: docs/performance.md ("The sync, as written").
"""

from __future__ import annotations

from django.db import connection

from races.feed.models import PERIOD_FIELD, RANK_FIELD

# rank column → the wager column it orders by, from the one map of each (races.feed.models).
_RANK_WAGER = {RANK_FIELD[period]: PERIOD_FIELD[period] for period in RANK_FIELD}


def sql_tuple(alias: str, columns) -> str:
    return "(" + ", ".join(f"{alias}.{c}" for c in columns) + ")"


def _rank_expressions(source: str) -> str:
    """Four rank expressions over `source` rows. Every positive wager sorts before every other, so a ranked
    player's position among all rows is its position among the ranked ones: no PARTITION BY needed, and the
    window's order is exactly the leaderboard index's (`player_lb_*`)."""
    return ",\n".join(
        f"CASE WHEN {source}.{wager} > 0 THEN ROW_NUMBER() OVER ("
        f"ORDER BY {source}.{wager} DESC, {source}.first_seen ASC, {source}.uid ASC) END AS {rank}"
        for rank, wager in _RANK_WAGER.items()
    )


_RANKED = f"SELECT races_player.id AS player_id, {_rank_expressions('races_player')} FROM races_player"  # noqa: S608
_ANY_RANK = " OR ".join(f"ranked.{r} IS NOT NULL" for r in _RANK_WAGER)
_RANK_UPDATE_SET = ", ".join(f"{r} = ranked.{r}" for r in _RANK_WAGER)
_RANK_MOVED = f"{sql_tuple('races_playerrank', _RANK_WAGER)} IS DISTINCT FROM {sql_tuple('ranked', _RANK_WAGER)}"
_NO_ROW = "NOT EXISTS (SELECT 1 FROM races_playerrank x WHERE x.player_id = ranked.player_id)"
_RANK_NEW = f"{_NO_ROW} AND ({_ANY_RANK})"
_RANK_COLUMN_LIST = ", ".join(_RANK_WAGER)
# PostgreSQL: one statement, the window sorts done once (both parts read the table as it was before either).
_PG_RANK_SQL = f"""
WITH ranked AS ({_RANKED}),
moved AS (
    UPDATE races_playerrank SET {_RANK_UPDATE_SET} FROM ranked
    WHERE races_playerrank.player_id = ranked.player_id AND {_RANK_MOVED}
    RETURNING 1
), added AS (
    INSERT INTO races_playerrank (player_id, {_RANK_COLUMN_LIST})
    SELECT player_id, {_RANK_COLUMN_LIST} FROM ranked WHERE {_RANK_NEW}
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM moved) + (SELECT COUNT(*) FROM added)
"""  # noqa: S608 - assembled from the column constants above, never from input
# SQLite (no writing CTEs): the same two changes as two statements.
_PORTABLE_RANK_SQL = [
    f"""UPDATE races_playerrank SET {_RANK_UPDATE_SET} FROM ({_RANKED}) AS ranked
        WHERE races_playerrank.player_id = ranked.player_id AND {_RANK_MOVED}""",  # noqa: S608
    f"""INSERT INTO races_playerrank (player_id, {_RANK_COLUMN_LIST})
        SELECT player_id, {_RANK_COLUMN_LIST} FROM ({_RANKED}) AS ranked WHERE {_RANK_NEW}""",  # noqa: S608
]


def player_ranks_recompute() -> int:
    """Store every player's global rank for the four periods: only ranks that moved and newly ranked players are
    written. Returns how many rank rows were written."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_RANK_SQL)
            return cursor.fetchone()[0]
        written = 0
        for sql in _PORTABLE_RANK_SQL:
            cursor.execute(sql)
            written += max(cursor.rowcount, 0)
        return written

"""Reads of the race engine: `races` (races, standings, positions, the entry rule `race_join_refusal`) and
`players` (profiles, search). The global leaderboards are the feed package's (races.feed.leaderboard)."""

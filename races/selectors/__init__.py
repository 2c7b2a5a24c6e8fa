"""Reads of the races app: `leaderboard` (cached global leaderboards), `races` (races, standings, positions),
`players` (profiles, search)."""

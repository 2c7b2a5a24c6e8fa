"""The feed and its leaderboards, apart from the race engine that builds on them.

`client` fetches and validates the affiliate's referral feed (`demo` simulates it); a sync writes it through
`load_postgres` or `load_portable` under `lock`, then `ranks`, `volume` and `logs`; `leaderboard` and `selectors`
read it; `credentials` keeps the affiliate API token. Nothing here imports the rest of the races app
(tests/core/test_architecture.py): the orchestrator that also refreshes live races is races.services.sync.
"""

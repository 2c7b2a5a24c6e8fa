"""Writes of the race engine: `sync` (the orchestrator of a feed sync: the feed package writes, live races are
refreshed, tier climbs told), `standings` (live race standings), `lifecycle` (a race's status: start, cancel,
recompute, finalize, recurrence; a race's status changes only here), `entries` (joining an opt-in race),
`adjustments` (operators' credits and debits), `statements` (monthly statements)."""

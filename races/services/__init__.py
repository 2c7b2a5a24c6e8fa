"""Writes of the races app: `sync` (the feed sync), `standings` (live race standings), `lifecycle` (a race's
status: start, cancel, recompute, finalize, recurrence). A race's status changes only here."""

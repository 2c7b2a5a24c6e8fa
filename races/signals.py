"""What the race engine tells the apps above it (which it must not import).

`race_finalized` is sent inside the finalization's transaction with `race` and `results` (the RaceResult rows
just written): a receiver that raises rolls the finalization back. Receivers return a count of what they made
(the payouts app: payouts created), summed in the finalization report.

`feed_synced` is sent inside a successful sync's transaction with `as_of` (when the feed's data arrived), right
after the live races were refreshed from it — and only when they were (a collapsed feed refreshes no race and
sends nothing): anything measured like a race (raffle tickets) follows the same data rules. A receiver that
raises rolls the sync back.
"""

from django.dispatch import Signal

race_finalized = Signal()
feed_synced = Signal()

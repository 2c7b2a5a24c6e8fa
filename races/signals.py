"""What the race engine tells the apps above it (which it must not import).

`race_finalized` is sent inside the finalization's transaction with `race` and `results` (the RaceResult rows
just written): a receiver that raises rolls the finalization back. Receivers return a count of what they made
(the payouts app: payouts created), summed in the finalization report."""

from django.dispatch import Signal

race_finalized = Signal()

"""What accounts tells the apps above it (which it must not import).

`account_erased` is sent inside the erasure's transaction (accounts.erasure) with `user` (already renamed to its
pseudonym) and `pseudonym`: an app that holds something the person wrote erases it (support: ticket text). A
receiver that raises rolls the erasure back.
"""

from django.dispatch import Signal

account_erased = Signal()

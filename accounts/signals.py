"""What accounts tells the apps above it (which it must not import).

`account_erased` is sent inside the erasure's transaction (accounts.erasure) with `user` (already renamed to its
pseudonym) and `pseudonym`: an app that holds something the person wrote erases it (support: ticket text). A
receiver that raises rolls the erasure back.

`user_registered` is sent by `user_register` once the account is committed, with `user` and `request` (None outside
a request); `player_verified` after an approved verification committed, with `user`. Receivers must not raise:
the account is made either way (experiments count them as conversions).
`player_linked` is sent inside a verification approval's transaction (accounts.services) with `user` and
`player` once the account holds the player (growth: attribution to the campaign the account clicked).
"""

from django.dispatch import Signal

account_erased = Signal()
user_registered = Signal()
player_verified = Signal()
player_linked = Signal()
# Sent by the site's claim form (accounts.services.goated_claim_request) with `user` and `request`: the moment a
# signed-in person asks to link a Goated player (growth: the campaign their browser remembers becomes the account's).
goated_claim_sent = Signal()

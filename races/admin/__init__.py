"""The races app in Django admin: the feed (players, sync log, affiliate token) and the races."""

from races.admin import feed, races  # noqa: F401  (registers the model admins)

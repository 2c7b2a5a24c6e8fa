from __future__ import annotations

from accounts.models import User


def user_profile(user_id: int) -> User:
    return User.objects.select_related("player").get(pk=user_id)

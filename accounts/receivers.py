"""Open sockets follow the rights behind them (docs/security.md, "Socket lifetime rules").

A socket is authorised once, when it opens; these receivers tell the open sockets of a user when a right behind
them ends, whatever path ended it (a form, admin, a service, the shell):

- deactivated or deleted → every socket of the user closes (4403), like a ban;
- signed out of one session → the sockets opened with that session close (4401);
- password changed, staff or superuser status removed, a group or a permission taken away → every socket of the
  user reads its session again and checks that its user may still follow its stream (4401 / 4403 if not).

Bulk updates send no signal: the services that use them (`user_set_active`, `user_sign_out_everywhere`) close the
sockets themselves.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from core import realtime

RIGHTS_FIELDS = ("password", "is_active", "is_staff", "is_superuser")


def user_rights_before(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """Remember what the rights were before a save that may change them (one read, only for such saves)."""
    if raw or instance.pk is None:
        return
    fields = [f for f in RIGHTS_FIELDS if update_fields is None or f in update_fields]
    if fields:
        instance._rights_before = sender.objects.filter(pk=instance.pk).values(*fields).first()


def user_rights_after(sender, instance, created=False, raw=False, **kwargs) -> None:
    before = instance.__dict__.pop("_rights_before", None)
    if raw or created or not before:
        return
    user_id = instance.pk
    if before.get("is_active") and not instance.is_active:
        transaction.on_commit(lambda: realtime.connections_close(user_id))
    elif (
        before.get("password", instance.password) != instance.password
        or (before.get("is_staff") and not instance.is_staff)
        or (before.get("is_superuser") and not instance.is_superuser)
    ):
        transaction.on_commit(lambda: realtime.connections_recheck(user_id))


def user_deleted(sender, instance, **kwargs) -> None:
    user_id = instance.pk
    transaction.on_commit(lambda: realtime.connections_close(user_id))


def user_signed_out(sender, request=None, user=None, **kwargs) -> None:
    """`logout()` sends this just before it empties the session: name the session now, while it has its key."""
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if user is not None and key:
        user_id = user.pk
        transaction.on_commit(lambda: realtime.session_close(user_id, key))


def permissions_removed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """A group or permission was taken from users (either side of `User.groups`, `User.user_permissions`), or a
    permission from a group (either side of `Group.permissions`): recheck the sockets of everyone affected."""
    if action == "pre_clear":
        instance._rights_users = _affected_users(sender, instance, reverse, None)
        return
    if action == "post_clear":
        users = instance.__dict__.pop("_rights_users", [])
    elif action == "post_remove":
        users = _affected_users(sender, instance, reverse, pk_set)
    else:
        return  # rights added end none
    if users:
        transaction.on_commit(lambda: [realtime.connections_recheck(pk) for pk in users])


def _affected_users(sender, instance, reverse: bool, pk_set) -> list[int]:
    from accounts.models import User

    if sender is Group.permissions.through:
        groups = (pk_set if pk_set is not None else instance.group_set.values("pk")) if reverse else [instance.pk]
        # Only staff use permissions; a player in a group has no socket that a permission opens.
        return list(User.objects.filter(groups__in=groups, is_staff=True).values_list("pk", flat=True).distinct())
    if not reverse:
        return [instance.pk]
    return list(pk_set) if pk_set is not None else list(instance.user_set.values_list("pk", flat=True))


def connect(user_model) -> None:
    """Called from `AccountsConfig.ready()`."""
    from django.contrib.auth.signals import user_logged_out
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

    pre_save.connect(user_rights_before, sender=user_model, dispatch_uid="accounts.sockets.rights-before")
    post_save.connect(user_rights_after, sender=user_model, dispatch_uid="accounts.sockets.rights-after")
    post_delete.connect(user_deleted, sender=user_model, dispatch_uid="accounts.sockets.deleted")
    user_logged_out.connect(user_signed_out, dispatch_uid="accounts.sockets.signed-out")
    for through in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(permissions_removed, sender=through, dispatch_uid=f"accounts.sockets.{through.__name__}")

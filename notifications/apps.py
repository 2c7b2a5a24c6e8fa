from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from notifications.selectors import _notification_changed

        # The unread count is cached per user (notifications.selectors): every saved or deleted notification
        # forgets it; marking read (a bulk update, no signal) forgets it in its service.
        post_save.connect(_notification_changed, sender="notifications.Notification", dispatch_uid="unread-saved")
        post_delete.connect(_notification_changed, sender="notifications.Notification", dispatch_uid="unread-deleted")

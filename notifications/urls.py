from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/read/", views.notification_read_all, name="read-all"),
    path("notifications/<int:pk>/read/", views.notification_read, name="read"),
    path("notifications/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # The newsletter's own address for its links (the same signed tokens).
    path("accounts/newsletter/unsubscribe/<str:token>/", views.unsubscribe, name="newsletter-unsubscribe"),
    path("accounts/newsletter/confirm/<str:token>/", views.newsletter_confirm, name="newsletter-confirm"),
]

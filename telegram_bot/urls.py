from django.urls import path

from telegram_bot import views

app_name = "telegram"

urlpatterns = [
    path("telegram/webhook/", views.webhook, name="webhook"),
]

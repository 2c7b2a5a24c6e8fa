from django.urls import path

from telegram_bot import views

app_name = "telegram"

urlpatterns = [
    path("telegram/webhook/", views.webhook, name="webhook"),
    path("accounts/telegram/login/", views.telegram_login, name="login"),
]

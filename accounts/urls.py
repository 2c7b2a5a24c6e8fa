from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path("password-reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    path("password-reset/done/", views.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
    path("verify-email/resend/", views.resend_verification, name="verify-email-resend"),
    path("verify-email/<str:token>/", views.verify_email, name="verify-email"),
    path("settings/", views.account_settings, name="settings"),
    path("terms/", views.terms_accept, name="terms"),
    path("break/<str:token>/", views.break_confirm, name="break"),
    path("newsletter/", views.newsletter_subscribe, name="newsletter-subscribe"),
    path("telegram/login/", views.telegram_login_view, name="telegram-login"),
    path("sign-out-everywhere/", views.sign_out_everywhere, name="sign-out-everywhere"),
    path("2fa/", views.two_factor, name="two-factor"),
    path("2fa/setup/", views.two_factor_setup, name="two-factor-setup"),
]

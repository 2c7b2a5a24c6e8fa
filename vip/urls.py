from django.urls import path

from vip import views

app_name = "vip"

urlpatterns = [
    path("vip/", views.vip_ladder, name="ladder"),
    path("bonus-codes/", views.bonus_codes, name="bonus-codes"),
    path("bonus-codes/<str:code>/claim/", views.bonus_code_claim, name="claim"),
    path("wheel/", views.wheel, name="wheel"),
    path("wheel/spin/", views.wheel_spin, name="spin"),
    path("wheel/verify/", views.wheel_verify, name="verify"),
]

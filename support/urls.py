from django.urls import path

from support import views

app_name = "support"

urlpatterns = [
    path("support/", views.ticket_list, name="list"),
    path("support/new/", views.ticket_new, name="new"),
    path("support/<int:ticket_id>/", views.ticket_detail, name="detail"),
]

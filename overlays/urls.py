from django.urls import path

from overlays import views

urlpatterns = [
    path("overlay/<str:token>/<str:kind>/", views.overlay_page, name="overlay"),
    path("overlay/<str:token>/<str:kind>/data.json", views.overlay_data, name="overlay-data"),
]

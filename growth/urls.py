from django.urls import path, re_path

from growth import views
from growth.models import SLUG_PATTERN

app_name = "growth"

urlpatterns = [
    path("go/", views.go, name="go"),
    # Anything else under /go/ (capitals, a slash, an encoded "//host") matches nothing: the site's 404.
    re_path(rf"^go/(?P<slug>{SLUG_PATTERN})/$", views.go, name="go"),
]

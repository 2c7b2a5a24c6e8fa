from django.urls import path, register_converter

from growth import views
from growth.models import SLUG_PATTERN


class CampaignSlug:
    """A campaign slug as `/go/<campaign:slug>/` takes it: lowercase letters, digits and dashes, 1-50. Anything
    else under /go/ (capitals, a slash, an encoded "//host") matches nothing: the site's 404."""

    regex = SLUG_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CampaignSlug, "campaign")

app_name = "growth"

urlpatterns = [
    path("go/", views.go, name="go"),
    path("go/<campaign:slug>/", views.go, name="go"),
]

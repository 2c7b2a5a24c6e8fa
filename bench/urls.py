from django.http import JsonResponse
from django.urls import path

from goatedvips.urls import urlpatterns as site_urlpatterns

CONSTANT = {
    "period": "monthly",
    "updated_at": "2026-11-22T12:00:00Z",
    "total": 300,
    "results": [
        {"rank": i, "uid": f"uid{i:017d}", "name": f"Player{i}", "wagered": "1234.56", "tier": "Gold"}
        for i in range(1, 26)
    ],
}


def constant(request):
    return JsonResponse(CONSTANT)


urlpatterns = [path("bench/constant/", constant), *site_urlpatterns]

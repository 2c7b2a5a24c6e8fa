from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from goatedvips import health, views
from goatedvips.api import AccountExportView, ApiRootView

admin.site.site_header = "GoatedVIPs back office"
admin.site.site_title = "GoatedVIPs admin"
admin.site.index_title = "Operations"
# No app list down the side of every page (the home page has it): changelists get the width for their columns,
# so status and dates stay on a 1280 px screen beside the filters.
admin.site.enable_nav_sidebar = False

api_v1 = [
    path("", ApiRootView.as_view(), name="root"),
    path("me/export/", AccountExportView.as_view(), name="me-export"),
    path("", include("accounts.api_urls")),
    path("", include("races.api_urls")),
    path("", include("payouts.api_urls")),
    path("", include("giveaways.api_urls")),
    path("", include("vip.api_urls")),
    path("", include("support.api_urls")),
    path("", include("notifications.api_urls")),
]

PAGES = ["how-it-works", "faq", "provably-fair", "terms", "privacy"]
pages = [path(f"{slug}/", views.static_page, {"template": slug}, name=slug) for slug in PAGES]

# Admin pages of models that moved to another app: old bookmarks and links still land on the right page.
MOVED_ADMIN = {
    "telegram_bot/verificationrequest": "accounts/verificationrequest",
    "telegram_bot/telegramlinktoken": "accounts/telegramlinktoken",
    "telegram_bot/botuser": "notifications/botuser",
    "accounts/notification": "notifications/notification",
    "accounts/notificationpreferences": "notifications/notificationpreferences",
    "goatedvips/auditentry": "core/auditentry",
    "accounts/newslettersubscription": "notifications/newslettersubscription",
}
moved_admin = re_path(
    r"^admin/(?P<old>{})/(?P<rest>.*)$".format("|".join(MOVED_ADMIN)), views.moved_admin, {"moves": MOVED_ADMIN}
)

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("races.urls")),
    path("", include("giveaways.urls")),
    path("", include("overlays.urls")),
    path("accounts/", include("accounts.urls")),
    path("", include("telegram_bot.urls")),
    path("", include("vip.urls")),
    path("", include("support.urls")),
    path("", include("notifications.urls")),
    path("", include("growth.urls")),
    path("", include((pages, "pages"))),
    path("favicon.ico", views.favicon, name="favicon"),
    path("styleguide/", views.styleguide, name="styleguide"),  # DEBUG only (a 404 in production)
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", views.metrics_view, name="metrics"),
    moved_admin,
    # Django's admin login, rate-limited per address and per username (docs/security.md).
    path("admin/login/", views.admin_login, name="admin-login"),
    path("admin/password_change/", views.admin_password_change, name="admin-password-change"),
    path("admin/analytics/<slug:key>.csv", admin.site.admin_view(views.analytics_csv), name="analytics-csv"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", http_method_names=["get", "head"]),
        name="swagger-ui",
    ),
]

handler400 = "goatedvips.views.bad_request"
handler403 = "goatedvips.views.permission_denied"
handler404 = "goatedvips.views.page_not_found"
handler500 = "goatedvips.views.server_error"

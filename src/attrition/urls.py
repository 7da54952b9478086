"""URL map: the admin, the JSON API, the public site and the contributors' pages."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from attrition.api.main import api

admin.site.site_header = f"{settings.SITE_NAME}: editors"
admin.site.site_title = f"{settings.SITE_NAME} editors"
admin.site.index_title = "The ledger"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("attrition.site.urls")),
    path("", include("attrition.capture.urls")),
    path("", include("attrition.evidence.routes")),
    path("", include("attrition.dedup.urls")),
    path("", include("attrition.accounts.urls")),
    path("", include("attrition.review.urls")),
    path("", include("attrition.territory.urls")),
    path("", include("attrition.ops.urls")),
    path("", include("attrition.counting.urls")),
]

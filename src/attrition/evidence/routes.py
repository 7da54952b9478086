"""URLs of the evidence app (its URL canonicaliser is `evidence.urls`)."""

from django.urls import path

from attrition.evidence import views

app_name = "evidence"
urlpatterns = [
    path("evidence/originals/<str:sha256>", views.original, name="original"),
    path("evidence/derived/<str:sha256>/<str:name>", views.derived, name="derived"),
]

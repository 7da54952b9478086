"""URLs of the duplicate review pages."""

from django.urls import path

from attrition.dedup import views

app_name = "dedup"
urlpatterns = [
    path("review/duplicates/", views.candidates, name="candidates"),
    path("review/duplicates/<int:pk>/", views.candidate, name="candidate"),
]

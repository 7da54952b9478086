"""Public counting pages: saved tallies, their permalinks, methodology, claims and estimates."""

from django.urls import path

from attrition.counting import views

app_name = "counting"
urlpatterns = [
    path("counts/", views.tallies_page, name="tallies"),
    path("counts/<slug:conflict>/<slug:slug>/", views.tally_page, name="tally"),
    path("methodology/", views.methodology_page, name="methodology"),
    path("claims/", views.claims_page, name="claims"),
    path("estimates/", views.estimates_methods_page, name="estimates_methods"),
    path("estimates/<slug:conflict>/<slug:slug>/", views.estimate_page, name="estimate"),
]

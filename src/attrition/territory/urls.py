"""Public territory pages: the control map of a conflict and one unit's timeline."""

from django.urls import path

from attrition.territory import views

app_name = "territory"
urlpatterns = [
    path("territory/", views.index, name="index"),
    path("c/<slug:slug>/territory/", views.map_page, name="map"),
    path("c/<slug:slug>/territory/districts.geojson", views.geometry, name="geometry"),
    path("c/<slug:slug>/territory/status.json", views.status, name="status"),
    path("c/<slug:slug>/territory/units/<str:code>/", views.unit_page, name="unit"),
]

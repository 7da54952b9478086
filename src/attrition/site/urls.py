"""Public pages: conflicts, their tracker-style ledgers, and one page per loss."""

from django.urls import path

from attrition.site import views

app_name = "site"
urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.conflict_page, name="conflict"),
    path("losses/<int:pk>/", views.loss_page, name="loss"),
    path("data/", views.data_page, name="data"),
    path("data/losses.<str:fmt>", views.data_download, name="download"),
]

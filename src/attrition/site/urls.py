"""Public pages: conflicts, their tracker-style ledgers and overviews, search, models, maps,
charts, one page per loss, open data, and the Atom feed."""

from django.urls import path

from attrition.site import pages, views
from attrition.site.feeds import VerifiedLossesFeed

app_name = "site"
urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.conflict_page, name="conflict"),
    path("losses/<int:pk>/", views.loss_page, name="loss"),
    path("losses/<int:pk>/history/", views.loss_history, name="loss_history"),
    path("data/", views.data_page, name="data"),
    path("data/losses.<str:fmt>", views.data_download, name="download"),
    path("c/<slug:slug>/overview/", pages.overview, name="overview"),
    path("c/<slug:slug>/map/", pages.map_page, name="map"),
    path("c/<slug:slug>/charts/", pages.charts_page, name="charts"),
    path("c/<slug:slug>/feed.atom", VerifiedLossesFeed(), name="conflict_feed"),
    path("losses/", pages.search, name="search"),
    path("models/<slug:slug>/", pages.model_page, name="model"),
    path("feed.atom", VerifiedLossesFeed(), name="feed"),
]

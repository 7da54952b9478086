"""URLs of the contributors' and reviewers' pages."""

from django.urls import path

from attrition.review import views

app_name = "review"
urlpatterns = [
    path("review/", views.queue, name="queue"),
    path("review/mine/", views.mine, name="mine"),
    path("review/export.<str:fmt>", views.export, name="export"),
    path("review/losses/<int:pk>/", views.loss, name="loss"),
    path("review/losses/<int:pk>/act", views.act, name="act"),
    path("review/losses/<int:pk>/merge", views.merge, name="merge"),
    path("review/losses/<int:pk>/revert", views.revert, name="revert"),
    path("review/<str:kind>/<int:pk>/", views.record, name="record"),
    path("review/<str:kind>/<int:pk>/act", views.record_act, name="record_act"),
]

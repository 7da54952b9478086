"""Capture pages: submit URLs and files, and watch the capture jobs run."""

from django.urls import path

from attrition.capture import views

app_name = "capture"
urlpatterns = [
    path("capture/", views.submit, name="submit"),
    path("capture/jobs/", views.job_list, name="jobs"),
    path("capture/jobs/<int:pk>/", views.job_page, name="job"),
    path("capture/jobs/<int:pk>/status", views.job_status, name="status"),
]

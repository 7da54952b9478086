"""Operations: `/healthz`, `/metrics`, and the admins' page of failed capture jobs."""

from django.urls import path

from attrition.ops import views

app_name = "ops"
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("ops/jobs/failed/", views.failed_jobs, name="failed_jobs"),
    path("ops/jobs/<int:pk>/retry", views.job_retry, name="job_retry"),
]

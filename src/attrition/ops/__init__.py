"""Running the instance: health checks, Prometheus metrics, and the failed-jobs page for admins."""

from django.apps import AppConfig


class CaptureConfig(AppConfig):
    name = "attrition.capture"
    label = "capture"
    verbose_name = "Capture"

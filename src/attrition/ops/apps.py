from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "attrition.ops"
    label = "ops"
    verbose_name = "Operations"

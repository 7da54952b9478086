from django.apps import AppConfig


class CountingConfig(AppConfig):
    name = "attrition.counting"
    label = "counting"
    verbose_name = "Counting"

from django.apps import AppConfig


class DedupConfig(AppConfig):
    name = "attrition.dedup"
    label = "dedup"
    verbose_name = "Duplicates"

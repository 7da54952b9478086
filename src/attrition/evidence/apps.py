from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "attrition.evidence"
    label = "evidence"
    verbose_name = "Evidence"

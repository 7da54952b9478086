from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "attrition.claims"
    label = "claims"
    verbose_name = "Claims"

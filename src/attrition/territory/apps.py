from django.apps import AppConfig


class TerritoryConfig(AppConfig):
    name = "attrition.territory"
    label = "territory"
    verbose_name = "Territory"

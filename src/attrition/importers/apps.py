from django.apps import AppConfig


class ImportersConfig(AppConfig):
    name = "attrition.importers"
    label = "importers"
    verbose_name = "Importers"

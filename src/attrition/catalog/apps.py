from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "attrition.catalog"
    label = "catalog"
    verbose_name = "Catalog"

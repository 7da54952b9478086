from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "attrition.site"
    label = "site"
    verbose_name = "Site"

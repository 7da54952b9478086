from django.apps import AppConfig


class LossesConfig(AppConfig):
    name = "attrition.losses"
    label = "losses"
    verbose_name = "Losses"

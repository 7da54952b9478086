from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "attrition.accounts"
    label = "accounts"
    verbose_name = "Accounts"

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LossesConfig(AppConfig):
    name = "attrition.losses"
    label = "losses"
    verbose_name = "Losses"

    def ready(self) -> None:
        from attrition.losses import guards, textsearch

        post_migrate.connect(guards.on_post_migrate, sender=self, dispatch_uid="losses_merge_guard")
        post_migrate.connect(
            textsearch.on_post_migrate, sender=self, dispatch_uid="losses_text_index"
        )

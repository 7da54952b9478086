from django.apps import AppConfig
from django.db.models.signals import post_save


class DedupConfig(AppConfig):
    name = "attrition.dedup"
    label = "dedup"
    verbose_name = "Duplicates"

    def ready(self) -> None:
        from attrition.dedup.receivers import depiction_saved, loss_saved
        from attrition.losses.models import Depiction, Loss

        post_save.connect(loss_saved, sender=Loss, dispatch_uid="dedup_loss_saved")
        post_save.connect(depiction_saved, sender=Depiction, dispatch_uid="dedup_depiction_saved")

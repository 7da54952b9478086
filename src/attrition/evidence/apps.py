from django.apps import AppConfig
from django.db.models.signals import post_migrate


class EvidenceConfig(AppConfig):
    name = "attrition.evidence"
    label = "evidence"
    verbose_name = "Evidence"

    def ready(self) -> None:
        from attrition.evidence.guards import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="evidence_custody_guard")

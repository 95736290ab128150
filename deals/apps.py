from django.apps import AppConfig


class DealsConfig(AppConfig):
    """The deals app: the dataset's models, services, API and admin."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "deals"
    verbose_name = "ReexAPI dataset"

    def ready(self):
        # Cache invalidation only (see deals/signals.py): every committed write bumps the dataset version.
        from deals.history import history_signals_connect
        from deals.signals import dataset_signals_connect

        dataset_signals_connect()
        # History bookkeeping only (see deals/history.py): versions record relations, `updated` moves with them.
        history_signals_connect()

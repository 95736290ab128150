from django.apps import AppConfig


class DealsConfig(AppConfig):
    """The deals app: the dataset's models, services, API and admin."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "deals"
    verbose_name = "ReexAPI dataset"

    def ready(self):
        # Cache invalidation only (see deals/signals.py): every committed write bumps the dataset version.
        from django.db.models.signals import post_migrate, pre_migrate

        from deals.history import history_signals_connect
        from deals.search_index import search_index_post_migrate, search_index_pre_migrate
        from deals.signals import dataset_signals_connect
        from deals.stats_keys import stats_keys_post_migrate, stats_keys_pre_migrate

        dataset_signals_connect()
        # History bookkeeping only (see deals/history.py): versions record relations, `updated` moves with them.
        history_signals_connect()
        # Schema upkeep of the statistics' derived columns and triggers (see deals/stats_keys.py), once per migrate.
        pre_migrate.connect(stats_keys_pre_migrate, sender=self, dispatch_uid="deals_stats_keys_pre_migrate")
        post_migrate.connect(stats_keys_post_migrate, sender=self, dispatch_uid="deals_stats_keys_post_migrate")
        # The same for the stored search documents and their triggers (see deals/search_index.py).
        pre_migrate.connect(search_index_pre_migrate, sender=self, dispatch_uid="deals_search_index_pre_migrate")
        post_migrate.connect(search_index_post_migrate, sender=self, dispatch_uid="deals_search_index_post_migrate")

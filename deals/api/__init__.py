"""The public read API, version 1: serializers, views, filters backends, pagination, renderers, schema helpers."""

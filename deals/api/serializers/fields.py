"""Serializer building blocks shared by every resource: slug-based absolute links, blank-as-null fields, the
public model serializer base, countries and counts."""

from __future__ import annotations

import functools

from django.urls import get_script_prefix, get_urlconf
from django.urls import reverse as django_reverse
from django_countries import countries
from rest_framework import serializers

_SLUG_PLACEHOLDER = "__slug__"


@functools.lru_cache(maxsize=128)
def _detail_path_template(view_name: str, urlconf: str | None, script_prefix: str) -> str:
    """The detail path of ``view_name`` with a placeholder for the slug. A page of 50 deals links ~300 records,
    and resolving each through ``reverse`` was a sixth of the response time; the URLconf and script prefix are
    part of the cache key, so a different configuration never sees another's paths."""
    return django_reverse(view_name, kwargs={"slug": _SLUG_PLACEHOLDER}, urlconf=urlconf)


class _SlugLinkMixin:
    """Links by slug with Django's ``reverse``: DRF's own would carry a ``?format=`` of the request over into
    every link (so CSV rows would link to CSV details, which do not exist)."""

    def get_url(self, obj, view_name, request, format):
        if obj is None or not getattr(obj, "slug", None):
            return None
        template = _detail_path_template(view_name, get_urlconf(), get_script_prefix())
        # Slugs are [-a-zA-Z0-9_]+ (SlugField), so they need no URL quoting.
        path = template.replace(_SLUG_PLACEHOLDER, obj.slug)
        if request is None:
            return path
        # The scheme and host are the same for every link of a response: validate and build them once.
        base = getattr(request, "_reexapi_absolute_base", None)
        if base is None:
            base = request.build_absolute_uri("/")[:-1]
            request._reexapi_absolute_base = base
        return base + path


class SlugIdentityLink(_SlugLinkMixin, serializers.HyperlinkedIdentityField):
    """The absolute API URL of the serialized record itself."""


class SlugRelatedLink(_SlugLinkMixin, serializers.HyperlinkedRelatedField):
    """The absolute API URL of a related record."""


def detail_url_field(view_name: str) -> SlugIdentityLink:
    """The record's own ``url``: the absolute URL of its API detail, by slug."""
    return SlugIdentityLink(
        view_name=f"api:{view_name}-detail", lookup_field="slug", help_text="Absolute URL of this record in the API."
    )


def related_url_field(view_name: str, source: str) -> SlugRelatedLink:
    """The ``url`` of the record that ``source`` names (e.g. a role's company), by its slug."""
    return SlugRelatedLink(
        view_name=f"api:{view_name}-detail",
        lookup_field="slug",
        source=source,
        read_only=True,
        help_text="Absolute URL of the related record in the API.",
    )


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A choice the model stores as an empty string when the sources do not state it; the API says null."""

    def to_representation(self, value):
        if value in ("", None):
            return None
        return super().to_representation(value)


class BlankAsNullCharField(serializers.CharField):
    """A code or unit the model stores as an empty string when not stated (a currency, a capacity unit); the API
    says null."""

    def to_representation(self, value):
        if value in ("", None):
            return None
        return super().to_representation(value)


class PublicModelSerializer(serializers.ModelSerializer):
    """Base of the JSON serializers: every field is always sent (``required`` in the schema, so generated clients
    get plain, non-optional attributes), and "not stated" is null, never "".

    - a choice field the model allows blank (e.g. ``value_qualifier``) is sent as null when blank;
    - the fields named in ``Meta.blank_as_null`` (codes and units stored as "" when unknown) likewise;
    - free text (titles, descriptions, localities) stays a string, "" when empty.
    """

    serializer_choice_field = BlankAsNullChoiceField

    def build_field(self, field_name, info, model_class, nested_depth):
        field_class, field_kwargs = super().build_field(field_name, info, model_class, nested_depth)
        if not field_kwargs.get("read_only"):
            field_kwargs["required"] = True
            field_kwargs.pop("default", None)
        blank_as_null = field_name in getattr(self.Meta, "blank_as_null", ())
        if field_kwargs.get("allow_blank") and (issubclass(field_class, serializers.ChoiceField) or blank_as_null):
            field_kwargs["allow_blank"] = False
            field_kwargs["allow_null"] = True
            if not issubclass(field_class, serializers.ChoiceField):
                field_class = BlankAsNullCharField
        return field_class, field_kwargs


class OptionalUrlField(serializers.URLField):
    """A URL that the model stores as an empty string when unknown; the API says null instead of ""."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None


class CountrySerializer(serializers.Serializer):
    """A country: ISO 3166-1 alpha-2 code and English name."""

    code = serializers.ChoiceField(
        choices=list(countries), read_only=True, help_text="ISO 3166-1 alpha-2 code, e.g. US."
    )
    name = serializers.CharField(read_only=True, help_text="English short name, e.g. United States of America.")

    def to_representation(self, instance):
        return {"code": instance.code, "name": str(instance.name)}


def count_field(help_text: str) -> serializers.IntegerField:
    """A read-only count that the resource's selector annotates (``deal_count``, ``evidence_count``…)."""
    return serializers.IntegerField(read_only=True, help_text=help_text)

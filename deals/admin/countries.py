"""Countries are picked by typing, not from a 250-entry list: django-countries' select elements, enhanced in the
browser by the admin's own bundled select2 (no new dependency) through one small static script (the CSP allows no
inline script). The form posts the same country codes as the plain selects, so nothing changes server-side."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django_countries.fields import CountryField
from django_countries.widgets import LazySelect, LazySelectMultiple


def _select2_media() -> forms.Media:
    """select2 as the admin's autocomplete widgets load it (the same files, minified unless DEBUG), so a page with
    both loads jQuery and select2 once."""
    extra = "" if settings.DEBUG else ".min"
    return forms.Media(
        js=(
            f"admin/js/vendor/jquery/jquery{extra}.js",
            f"admin/js/vendor/select2/select2.full{extra}.js",
            "admin/js/jquery.init.js",
            "deals/admin/countries.js",
        ),
        css={"screen": (f"admin/css/vendor/select2/select2{extra}.css", "admin/css/autocomplete.css")},
    )


class CountryPickerMixin:
    """Marks the select for ``countries.js`` (``data-country-picker``) and brings select2 with it."""

    def __init__(self, attrs=None, choices=()):
        super().__init__(
            {"data-country-picker": "", "data-placeholder": "Type a country's name", **(attrs or {})}, choices
        )

    @property
    def media(self):
        return _select2_media()


class CountryPicker(CountryPickerMixin, LazySelect):
    """One country (a company's or facility's), chosen by typing part of its name."""


class CountriesPicker(CountryPickerMixin, LazySelectMultiple):
    """Several countries (a deal's), each chosen by typing part of its name; shown as removable tags."""


class CountryPickerAdminMixin:
    """Every django-countries field of the admin gets the picker that fits it (one country or several)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, CountryField) and "widget" not in kwargs:
            kwargs["widget"] = CountriesPicker if db_field.multiple else CountryPicker
        return super().formfield_for_dbfield(db_field, request, **kwargs)

"""The landing page ``/``: an HTML page for people, with schema.org ``Dataset`` JSON-LD for dataset search engines.

A plain Django view and template (deals/templates/deals/landing.html), no JavaScript. The two charts are SVG drawn
here, on the server, with their labels and figures as text inside the SVG, so they read without scripts and need
nothing from another host (the page's Content-Security-Policy allows only this server). The page is a function of
the dataset version and the code, like the API, so deals/caching.py gives it an ETag, 304s and the response cache
(``REEXAPI_CACHED_PAGES``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe

from deals.citation import citation_authors_get, citation_metadata_get, citation_text_get
from deals.licensing import CODE_LICENSE, DATASET_LICENSE
from deals.models import DatasetRelease
from deals.selectors.landing import LandingSummary, landing_summary

# Bars per chart: the largest groups; the page says how many more there are (the stats API lists them all).
CHART_BARS = 10
_LABEL_WIDTH = 250
_BAR_X = _LABEL_WIDTH + 10
_BAR_WIDTH = 300
_ROW = 26
_WIDTH = 900


@dataclass(frozen=True)
class Bar:
    """One bar of a chart, its geometry in SVG user units and its text."""

    label: str
    value_text: str
    y: int
    width: int

    @property
    def text_y(self) -> int:
        return self.y + 17

    @property
    def rect_y(self) -> int:
        return self.y + 4

    @property
    def value_x(self) -> int:
        return _BAR_X + self.width + 6


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart: bars, total height, and how many groups were left out."""

    bars: list[Bar]
    height: int
    omitted: int


def usd_text(value: Decimal) -> str:
    """``$1.2 billion``, ``$463 million``, ``$12,500``: announced values as people read them."""
    if value >= 1_000_000_000:
        return f"${value / 1_000_000_000:,.1f} billion".replace(".0 ", " ")
    if value >= 1_000_000:
        return f"${value / 1_000_000:,.1f} million".replace(".0 ", " ")
    return f"${value:,.0f}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def chart_build(*, groups: list[dict], value: str, text) -> Chart:
    """Lay out the largest ``CHART_BARS`` groups (already in order) as bars proportional to ``group[value]``."""
    shown = groups[:CHART_BARS]
    largest = max((g[value] for g in shown), default=0) or 1
    bars = [
        Bar(
            label=g["label"],
            value_text=text(g),
            y=i * _ROW,
            width=max(1, round(_BAR_WIDTH * g[value] / largest)),
        )
        for i, g in enumerate(shown)
    ]
    return Chart(bars=bars, height=max(1, len(bars)) * _ROW, omitted=len(groups) - len(shown))


def _value_text(group: dict) -> str:
    text = f"{usd_text(group['value_usd_sum'])} ({_plural(group['deal_count'], 'deal')}"
    if group["deals_without_value"]:
        text += f", {group['deals_without_value']} without a value"
    return text + ")"


def _release_files(request: HttpRequest, release: DatasetRelease | None) -> list[dict]:
    if release is None:
        return []
    return [
        {
            "name": f.name,
            "media_type": f.media_type,
            "size": f.size,
            "sha256": f.sha256,
            "url": request.build_absolute_uri(
                reverse("api:release-file", kwargs={"version": release.version, "name": f.name})
            ),
        }
        for f in release.files.all()
    ]


def dataset_jsonld(*, request: HttpRequest, summary: LandingSummary, files: list[dict]) -> dict:
    """The schema.org ``Dataset`` description of the page: name, description, licence, creator, citation, and per
    release file one ``DataDownload`` (contentUrl, encodingFormat, contentSize in bytes, sha256)."""
    meta = citation_metadata_get()
    home = request.build_absolute_uri("/")
    release = summary.release
    data = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": meta["title"],
        "description": " ".join(meta["abstract"].split()),
        "url": home,
        "license": DATASET_LICENSE["url"],
        "isAccessibleForFree": True,
        "keywords": meta["keywords"],
        "creator": [{"@type": "Organization", "name": name} for name in citation_authors_get()],
        "citation": citation_text_get(url=home, version=release.version if release else None),
    }
    if release is not None:
        data["version"] = release.version
        data["datePublished"] = release.created.date().isoformat()
    # When the published dataset last changed: the latest release's date (what the downloads hold); before the first
    # release, the last committed write.
    modified = release.created if release is not None else summary.dataset_changed
    if modified is not None:
        data["dateModified"] = modified.isoformat().replace("+00:00", "Z")
    data["distribution"] = [
        {
            "@type": "DataDownload",
            "name": f["name"],
            "contentUrl": f["url"],
            "encodingFormat": f["media_type"],
            "contentSize": f"{f['size']} B",
            "sha256": f["sha256"],
        }
        for f in files
    ]
    return data


def jsonld_script(data: dict) -> SafeString:
    """``<script type="application/ld+json">`` with ``<``, ``>`` and ``&`` escaped as in Django's json_script, so
    no value can close the element. A data block: browsers never execute it, so the CSP's script-src allows it."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return mark_safe(f'<script type="application/ld+json">\n{text}\n</script>')  # noqa: S308 (escaped above)


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    """``/``: what the dataset is, its licence and citation, the latest release, the API's links, counts, charts."""
    summary = landing_summary()
    files = _release_files(request, summary.release)
    home = request.build_absolute_uri("/")
    context = {
        "summary": summary,
        "release": summary.release,
        "files": files,
        "citation": citation_text_get(url=home, version=summary.release.version if summary.release else None),
        "dataset_license": DATASET_LICENSE,
        "code_license": CODE_LICENSE,
        "counts": [
            {"name": c.name, "count": c.count, "url": reverse(f"api:{c.basename}-list")} for c in summary.counts
        ],
        "value_chart": chart_build(groups=summary.value_by_commodity, value="value_usd_sum", text=_value_text),
        "stage_chart": chart_build(
            groups=summary.deals_by_stage, value="deal_count", text=lambda g: _plural(g["deal_count"], "deal")
        ),
        "chart": {"label_width": _LABEL_WIDTH, "bar_x": _BAR_X, "width": _WIDTH},
        "jsonld": jsonld_script(dataset_jsonld(request=request, summary=summary, files=files)),
    }
    return render(request, "deals/landing.html", context)

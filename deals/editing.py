"""Editor-side services: what the admin, the import and the ``create_editor`` command do beyond plain CRUD.

HackSoft style: ``<entity>_<action>`` names, keyword-only typed arguments, ``@transaction.atomic`` on writes.
Every check here reuses the loader's own functions (:func:`deals.services.sources.source_text_prepare` and
:func:`deals.services.sources.evidence_locate`), so the admin, an import and ``load_dataset`` accept and reject exactly
the same texts and quotes.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from deals import models
from deals.services.duplicates import record_admin_link, source_duplicate_find
from deals.services.sources import PreparedText, evidence_locate, source_text_prepare
from deals.text import QuoteAmbiguous, QuoteError, QuoteLocation, quote_spans

EDITORS_GROUP = "Editors"

# What the Editors group may do, per model. Nobody in the group deletes a record that has a public slug
# (sources, companies, facilities, deals, commodities): API clients and fixtures refer to those slugs, and a
# deletion cascades to evidence. Link rows and evidence carry no slug of their own, and fixing a wrong party or
# a wrong quote means removing it, so editors may delete those. Supply-chain stages are a fixed vocabulary
# seeded by a migration: view only. Deals, companies and facilities leave the public dataset by withdrawal or
# merge instead ("publish" covers publishing, withdrawing and merging; see deals/admin/publication.py).
EDITOR_PERMISSIONS: dict[type, tuple[str, ...]] = {
    models.Source: ("add", "change", "view"),
    models.Company: ("add", "change", "view", "publish"),
    models.Facility: ("add", "change", "view", "publish"),
    models.Deal: ("add", "change", "view", "publish"),
    models.Commodity: ("add", "change", "view"),
    models.DealParty: ("add", "change", "delete", "view"),
    models.FacilityCompany: ("add", "change", "delete", "view"),
    models.Evidence: ("add", "change", "delete", "view"),
    models.SupplyChainStage: ("view",),
    # Releases are made by manage.py dataset_release and never change: editors (like everyone) only look at them.
    models.DatasetRelease: ("view",),
}


@transaction.atomic
def editors_group_ensure() -> Group:
    """Create or update the ``Editors`` group so it holds exactly :data:`EDITOR_PERMISSIONS`.

    Idempotent: running it again removes any permission granted by hand since (for example on users or
    groups), so the group's rights are always the documented ones.
    """
    group, _ = Group.objects.get_or_create(name=EDITORS_GROUP)
    wanted: list[Permission] = []
    for model, actions in EDITOR_PERMISSIONS.items():
        content_type = ContentType.objects.get_for_model(model)
        for action in actions:
            codename = f"{action}_{model._meta.model_name}"
            # Permissions are created by post_migrate; create any missing one so the service also works on a
            # database migrated without the auth app's signal (e.g. in a test run with --nomigrations).
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type,
                codename=codename,
                defaults={"name": f"Can {action} {model._meta.verbose_name}"},
            )
            wanted.append(permission)
    group.permissions.set(wanted)
    return group


@transaction.atomic
def editor_create(*, username: str, email: str = "", password: str | None = None):
    """Create or update a staff (not superuser) account in the ``Editors`` group; idempotent.

    An existing account keeps its password unless a new one is given; ``password=None`` on a new account
    leaves it unusable (the person then needs a password set by an administrator). Raises ``ValidationError``
    when the password fails the project's password validators.
    """
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"email": email})
    if password is not None:
        validate_password(password, user=user)
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    if email:
        user.email = email
    user.is_staff = True
    user.is_active = True
    user.save()
    user.groups.add(editors_group_ensure())
    return user


# C0 control characters other than tab, line feed and carriage return. NUL cannot be stored at all in a PostgreSQL
# text column, and the others are binary debris (a PDF or word-processor file saved with a .txt name), not article
# text; white-space normalisation would fold some of them (form feed, vertical tab) and keep the rest invisibly.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def source_upload_prepare(*, raw: bytes, exclude_pk: int | None = None) -> PreparedText:
    """Normalise a pasted or uploaded document like the loader does, and refuse what cannot be stored.

    Raises ``ValidationError`` (with a message an editor can act on) when the bytes are not UTF-8, when they contain
    a C0 control character other than tab, line feed or carriage return (NUL included), when the text is empty
    after normalisation, or when a source with the same raw digest, or the same text once quotes, dashes and white
    space are folded, already exists (the message links it).
    """
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"The file is not UTF-8 text (byte {exc.start} cannot be decoded). Save it as UTF-8 and upload it again.",
            code="not_utf8",
        ) from exc
    control = _CONTROL_RE.search(decoded)
    if control is not None:
        line = decoded.count("\n", 0, control.start()) + 1
        column = control.start() - (decoded.rfind("\n", 0, control.start()) + 1) + 1
        raise ValidationError(
            f"The text contains the control character U+{ord(control.group()):04X} at line {line}, column {column}; "
            "only tabs and line breaks are allowed. Save the article as plain text and try again.",
            code="control_character",
        )
    prepared = source_text_prepare(raw=raw)
    if not prepared.text:
        raise ValidationError("The document is empty.", code="empty")
    duplicate = models.Source.objects.filter(raw_sha256=prepared.raw_sha256).exclude(pk=exclude_pk).first()
    if duplicate is not None:
        raise ValidationError(
            format_html("This document is already stored as source {}.", record_admin_link(record=duplicate)),
            code="duplicate",
        )
    # The same article copied with other quotes, dashes or spacing is a different file but the same source.
    duplicate = source_duplicate_find(text=prepared.text, exclude_pk=exclude_pk)
    if duplicate is not None:
        raise ValidationError(
            format_html(
                "This text is already stored as source {} (the same text once quotes, dashes and white space are "
                "normalised). Add your evidence to that source instead.",
                record_admin_link(record=duplicate),
            ),
            code="duplicate_text",
        )
    return prepared


def evidence_quote_resolve(*, source: models.Source, quote: str, occurrence: int | None = None) -> QuoteLocation:
    """Locate a pasted quote in its source with :func:`deals.services.sources.evidence_locate`, as the loader does.

    Raises ``ValidationError`` whose message says whether the quote is missing or ambiguous (and how many times it
    occurs, so the editor can pick an occurrence), naming the source by its title, as the source picker shows it.
    """
    try:
        return evidence_locate(source=source, quote=quote, occurrence=occurrence)
    except QuoteAmbiguous as exc:
        raise ValidationError(
            f"The quote occurs {exc.count} times in source “{source.title}”. "
            f"Give the occurrence (1-{exc.count}) you mean, or paste a longer quote.",
            code="ambiguous",
        ) from exc
    except QuoteError as exc:
        raise ValidationError(f"Not found in source “{source.title}”: {exc}", code="not_found") from exc


def evidence_occurrence(*, evidence: models.Evidence) -> int:
    """Which occurrence (1-based) of its quote an evidence row points at; the inverse of ``occurrence``.

    Exports carry it, so that an exported batch imports again even when its quotes occur more than once.
    """
    spans = quote_spans(text=evidence.source.text, quote=evidence.quote)
    return max(sum(1 for start, _ in spans if start <= evidence.start), 1)


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    label: str
    url: str


def _evidence_span(evidence: models.Evidence) -> _Span:
    target = evidence.target
    name = evidence.target_label
    try:
        url = reverse(f"admin:deals_{name}_change", args=[target.pk]) if target is not None else ""
    except NoReverseMatch:
        url = ""
    return _Span(evidence.start, evidence.end, f"{name}: {target}", url)


def source_text_highlight(*, source: models.Source) -> SafeString:
    """The source text as HTML, every evidence quote in a ``<mark>`` linking to the record it supports.

    The text is untrusted (it comes from an uploaded article), so every piece of it is escaped; only the tags
    built here are markup. Overlapping quotes are cut at every boundary, and each piece links to the record of
    the innermost quote covering it. Every piece is a ``<span data-offset>`` holding only its text, the offset of
    its first character in ``source.text`` (in characters, i.e. code points): the quoting script
    (``deals/static/deals/admin/quote.js``) turns a selection back into exact offsets from it.
    """
    text = source.text
    spans = [
        _evidence_span(e)
        for e in source.evidence.select_related("deal", "company", "facility").order_by("start", "-end", "id")
        if 0 <= e.start < e.end <= len(text)
    ]
    cuts = sorted({0, len(text)} | {s.start for s in spans} | {s.end for s in spans})
    out: list[str] = []
    for left, right in zip(cuts, cuts[1:], strict=False):
        piece = f'<span data-offset="{left}">{html.escape(text[left:right])}</span>'
        covering = [s for s in spans if s.start <= left and right <= s.end]
        if not covering:
            out.append(piece)
            continue
        inner = max(covering, key=lambda s: (s.start, -s.end))
        title = html.escape("; ".join(s.label for s in covering))
        if inner.url:
            piece = f'<a href="{html.escape(inner.url)}">{piece}</a>'
        out.append(f'<mark title="{title}">{piece}</mark>')
    return mark_safe("".join(out))  # noqa: S308 - every piece of source text above went through html.escape

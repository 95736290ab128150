"""Admin: no unsupported change goes public, and every quote keeps the value it states.

For deals, companies and facilities. The check needs the whole change page at once (the record's own fields, its
many-to-many fields, its party or company inline, and its evidence inline), so the evidence inline's formset runs
it (:meth:`deals.forms.EvidenceInlineFormSet.clean`) with the page's form and sibling formsets, which this mixin
hands it. After a save, :func:`deals.services.evidence.record_evidence_values_sync` gives newly ticked fields the
value just saved.
"""

from __future__ import annotations

from deals.forms import EvidenceInlineFormSet
from deals.services.evidence import record_evidence_values_sync


class EvidenceCoverageAdminMixin:
    """Wires the record's change form into its evidence inline and syncs evidence snapshots after saving."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class RecordForm(form_class):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, **form_kwargs)
                # The inline formsets are built on this same instance; they find the page's form through it.
                self.instance._coverage_form = self

        RecordForm.__name__ = form_class.__name__
        return RecordForm

    def _create_formsets(self, request, obj, change):
        formsets, inline_instances = super()._create_formsets(request, obj, change)
        for formset in formsets:
            if isinstance(formset, EvidenceInlineFormSet):
                formset.sibling_formsets = formsets
        return formsets, inline_instances

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        record_evidence_values_sync(record=form.instance)

"""Admin forms: where an editor's input is checked and turned into stored values.

The checks themselves are services in :mod:`deals.editing` (shared with the import); these forms only map
their ``ValidationError`` onto the field the editor has to fix.

Modules: :mod:`.fields` (shared fields), :mod:`.sources`, :mod:`.evidence`, :mod:`.records` (companies, deals).
"""

from deals.forms.evidence import (
    EvidenceAdminForm,
    EvidenceInlineFormSet,
    QuoteTextarea,
)
from deals.forms.fields import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_MB,
    FieldPickerField,
    IdCheckingModelMultipleChoiceField,
    NameListField,
    field_choices,
    value_is_valid_for,
)
from deals.forms.records import (
    CONFIRM_DIFFERENT_DEAL,
    CompanyAdminForm,
    DealAdminForm,
    DealPartyInlineFormSet,
)
from deals.forms.sources import (
    SourceAdminForm,
)

__all__ = [
    "CONFIRM_DIFFERENT_DEAL",
    "CompanyAdminForm",
    "DealAdminForm",
    "DealPartyInlineFormSet",
    "EvidenceAdminForm",
    "EvidenceInlineFormSet",
    "FieldPickerField",
    "IdCheckingModelMultipleChoiceField",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_MB",
    "NameListField",
    "QuoteTextarea",
    "SourceAdminForm",
    "field_choices",
    "value_is_valid_for",
]

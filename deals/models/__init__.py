"""The ReexAPI data model: sources, companies and governments, facilities, deals, and the evidence tying them.

One module per record type (``deals/models/<record>.py``); shared validators, choice sets and constraint helpers
live in :mod:`deals.models.base`. Everything is re-exported here, so ``from deals.models import Deal`` keeps working
and Django finds every model.

Design notes (see docs/data-model.md for every field and choice):
- Every record has a unique, human-readable ``slug``: the natural key in fixtures and the id in URLs.
- Dates carry a precision (day, month, year), as in Wikidata; a month-precision date is stored as the first day
  of that month.
- Money carries an ISO 4217 currency, a USD amount only where the source states one, and a qualifier for
  "about" and "up to" figures (OCDS-style values).
- Roles live on the link rows (deal parties, facility companies), as in OCDS's party roles.
- A deal's terms (unit price, term, share of output, instrument) are kept as the source states them, each group
  whole or empty (``deals/models/deal_terms.py``).
- Structural rules are database constraints; rules that need Python (quote matching, ordering of fields that
  depend on other rows) live in ``clean()``.
"""

from deals.models.base import (
    CURRENCY_VALIDATOR,
    SHA256_VALIDATOR,
    DatePrecision,
    SlugModel,
    ValueQualifier,
)
from deals.models.changes import ChangeAction, ChangeEntry, ChangeSequence
from deals.models.company import Company
from deals.models.dataset_version import DatasetVersion
from deals.models.deal import Deal, DealParty
from deals.models.evidence import Evidence, evidence_field_names, evidence_fields_unknown
from deals.models.facility import Facility, FacilityCompany
from deals.models.fixture_state import FixtureState
from deals.models.publication import PUBLICATION_FIELDS, PublicationStatus, PublishableModel
from deals.models.release import DatasetRelease, ReleaseFile
from deals.models.source import Source
from deals.models.vocabulary import Commodity, SupplyChainStage

__all__ = [
    "CURRENCY_VALIDATOR",
    "SHA256_VALIDATOR",
    "ChangeAction",
    "ChangeEntry",
    "ChangeSequence",
    "Commodity",
    "Company",
    "DatasetRelease",
    "DatasetVersion",
    "DatePrecision",
    "Deal",
    "DealParty",
    "Evidence",
    "Facility",
    "FacilityCompany",
    "FixtureState",
    "PUBLICATION_FIELDS",
    "PublicationStatus",
    "PublishableModel",
    "ReleaseFile",
    "SlugModel",
    "Source",
    "SupplyChainStage",
    "ValueQualifier",
    "evidence_field_names",
    "evidence_fields_unknown",
]

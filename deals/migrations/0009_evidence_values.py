"""Evidence.values: per supported field, the value the quote states (deals.coverage).

Existing evidence gets the current value of every field it lists: until now a quote was taken to support whatever
the record held, so its snapshot is what it supports today. The canonical form is copied from
deals.coverage.value_canonical (a migration must not change when that module does).
"""

import datetime
import decimal
import enum

from django.db import migrations, models

HELP = (
    "Per supported field, the value this quote states: a snapshot of the record's value taken when the field was "
    "ticked or loaded. Where it differs from the current value, the quote is a claim of that old value "
    "(see deals.coverage)."
)
_ROLE_LINKS = {("deal", "parties"): "party_links", ("facility", "companies"): "company_links"}


def _canonical(value):
    if isinstance(value, tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, enum.Enum):  # a TextChoices member set from code: store its plain value
        return value.value
    if isinstance(value, list) or type(value).__name__ == "MultipleCountriesDescriptor":
        return sorted((_canonical(v) for v in value), key=repr)
    if hasattr(value, "code") and not isinstance(value, models.Model):
        return value.code or ""
    if isinstance(value, models.Model):
        return getattr(value, "slug", value.pk)
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _value(record, target, name):
    links = _ROLE_LINKS.get((target, name))
    if links is not None:
        return _canonical([(link.company.slug, link.role) for link in getattr(record, links).select_related("company")])
    fld = record._meta.get_field(name)
    if fld.many_to_many:
        return _canonical([related.slug for related in getattr(record, name).all()])
    if fld.many_to_one:
        return _canonical(getattr(record, name))
    return _canonical(getattr(record, fld.attname))


def fill_values(apps, schema_editor):
    Evidence = apps.get_model("deals", "Evidence")
    for evidence in Evidence.objects.select_related("deal", "company", "facility").order_by("pk"):
        for target in ("deal", "company", "facility"):
            record = getattr(evidence, target)
            if record is not None:
                break
        names = {f.name for f in record._meta.get_fields()}
        evidence.values = {
            name: _value(record, target, name) for name in evidence.fields or [] if name in names
        }
        evidence.save(update_fields=["values"])


class Migration(migrations.Migration):
    dependencies = [
        ("deals", "0007_deal_default_order_index_restore"),
    ]

    operations = [
        migrations.AddField(
            model_name="evidence",
            name="values",
            field=models.JSONField(blank=True, default=dict, help_text=HELP),
        ),
        migrations.AddField(
            model_name="historicalevidence",
            name="values",
            field=models.JSONField(blank=True, default=dict, help_text=HELP),
        ),
        migrations.RunPython(fill_values, migrations.RunPython.noop),
        # Company.kind gains "unknown" ("Not stated"), for organisations the sources name without saying what
        # they are (the same choice as the statuses'); the choices constraint is rebuilt with it.
        migrations.RemoveConstraint(
            model_name='company',
            name='company_kind_valid',
        ),
        migrations.AlterField(
            model_name='company',
            name='kind',
            field=models.CharField(choices=[('company', 'Company'), ('state_owned', 'State-owned enterprise'), ('government', 'National or regional government'), ('agency', 'Government department or agency'), ('investor', 'Investment fund or financial investor'), ('research', 'University or research institute'), ('other', 'Other organisation'), ('unknown', 'Not stated')], help_text="Company, government, agency and so on; 'unknown' where the sources do not say what it is.", max_length=20),
        ),
        migrations.AlterField(
            model_name='historicalcompany',
            name='kind',
            field=models.CharField(choices=[('company', 'Company'), ('state_owned', 'State-owned enterprise'), ('government', 'National or regional government'), ('agency', 'Government department or agency'), ('investor', 'Investment fund or financial investor'), ('research', 'University or research institute'), ('other', 'Other organisation'), ('unknown', 'Not stated')], help_text="Company, government, agency and so on; 'unknown' where the sources do not say what it is.", max_length=20),
        ),
        migrations.AddConstraint(
            model_name='company',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['company', 'state_owned', 'government', 'agency', 'investor', 'research', 'other', 'unknown'])), name='company_kind_valid', violation_error_message='kind must be one of: company, state_owned, government, agency, investor, research, other, unknown.'),
        ),
    ]

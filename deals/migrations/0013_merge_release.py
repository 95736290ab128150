# Joins this branch's 0013 (Source.redistribution_licensed) with i10-releases' 0014 (releases), both of which depend
# on 0012, so that the branch that merges i10-releases has one leaf. Drop it when the migrations are chained.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('deals', '0013_source_redistribution_licensed'),
        ('deals', '0014_release'),
    ]

    operations = []

"""Seed the fixed supply-chain stage vocabulary, so every database (tests included) has it."""

from django.db import migrations

STAGES = [
    ("mining", "Mining and exploration", "upstream", 10, "Exploration, deposits, mining and concentrating ore."),
    ("separation-refining", "Separation and refining", "midstream", 20,
     "Cracking, separating and refining concentrates into oxides, chemicals or purified materials."),
    ("metals-alloys", "Metals and alloys", "midstream", 30, "Reducing oxides to metals and making alloys."),
    ("battery-materials", "Battery materials", "midstream", 40,
     "Cathode, anode (graphite, silicon) and electrolyte materials for batteries."),
    ("magnets", "Magnets", "downstream", 50, "Permanent magnet manufacturing, e.g. NdFeB magnets."),
    ("batteries-components", "Batteries and components", "downstream", 60,
     "Cells, batteries, motors and other components made from processed materials."),
    ("recycling", "Recycling", "recycling", 70, "Recovering materials from waste, scrap, end-of-life products or tailings."),
]


def seed(apps, schema_editor):
    Stage = apps.get_model("deals", "SupplyChainStage")
    for slug, name, segment, position, description in STAGES:
        Stage.objects.update_or_create(
            slug=slug, defaults={"name": name, "segment": segment, "position": position, "description": description}
        )


def unseed(apps, schema_editor):
    apps.get_model("deals", "SupplyChainStage").objects.filter(slug__in=[s[0] for s in STAGES]).delete()


class Migration(migrations.Migration):
    dependencies = [("deals", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]

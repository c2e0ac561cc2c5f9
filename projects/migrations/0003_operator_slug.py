"""Operators get a URL slug, derived from their names for the existing rows."""

from django.db import migrations, models
from django.utils.text import slugify


def fill_slugs(apps, schema_editor):
    Operator = apps.get_model("projects", "Operator")
    taken = set()
    for operator in Operator.objects.order_by("id"):
        base = slugify(operator.name)[:90] or "operator"
        slug, number = base, 1
        while slug in taken:
            number += 1
            slug = f"{base}-{number}"
        taken.add(slug)
        operator.slug = slug
        operator.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [("projects", "0002_method_1_0")]

    operations = [
        migrations.AddField(
            model_name="operator", name="slug", field=models.SlugField(max_length=100, null=True, db_index=False, verbose_name="slug")
        ),
        migrations.RunPython(fill_slugs, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="operator", name="slug", field=models.SlugField(
                blank=True,
                help_text="The operator's name in web addresses; made from the name when left empty.",
                max_length=100,
                unique=True,
                verbose_name="slug",
            ),
        ),
    ]

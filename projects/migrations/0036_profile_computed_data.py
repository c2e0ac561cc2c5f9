# A stored ranking is current while the published data it was computed from are: the newest
# publication's id, not the site generation (which also moves for a revoked key or new figures).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0035_weighting_profiles"),
    ]

    operations = [
        migrations.RenameField(
            model_name="weightingprofile",
            old_name="computed_generation",
            new_name="computed_data",
        ),
    ]

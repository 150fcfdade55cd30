"""Stored tags that are aliases of a canonical tag (case-studies, serving, ...) are merged into
it, so that the site shows one tag per idea (issue 11)."""

from django.db import migrations


def fold(apps, schema_editor):
    from resources.services import fold_tags_into_canonical

    fold_tags_into_canonical(
        tag_model=apps.get_model("taggit", "Tag"),
        item_model=apps.get_model("taggit", "TaggedItem"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("resources", "0007_section_ranking_indexes"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(fold, migrations.RunPython.noop)]

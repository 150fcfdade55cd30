"""A stored, weighted full-text vector with a GIN index, on PostgreSQL only.

PostgreSQL keeps the generated column up to date on every write, bulk ones included; SQLite
has no full-text type, and its search uses a simpler match (resources/filters.py).
"""

from django.db import migrations

CREATE = """
ALTER TABLE resources_resource ADD COLUMN IF NOT EXISTS search_vector tsvector
GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
    || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')
    || setweight(to_tsvector('english'::regconfig, coalesce(provider, '')), 'C')
) STORED;
CREATE INDEX IF NOT EXISTS resource_search_vector ON resources_resource USING GIN (search_vector);
"""
DROP = """
DROP INDEX IF EXISTS resource_search_vector;
ALTER TABLE resources_resource DROP COLUMN IF EXISTS search_vector;
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("resources", "0005_progress_and_link_health")]

    operations = [migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP))]

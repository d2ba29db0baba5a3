"""Indexes of the contact search (customers/selectors.py, ``search_contacts``): each key
compared byte by byte, so that a prefix is one range of the index, read in the search's
order (key, id) up to the limit, whatever the database's collation. The expressions are those the selector writes;
PostgreSQL uses an index only for the very expression it was built on.

SQLite (the embedded mode) gets the email and name keys (it compares bytes already); its
phone search reads the table, which at a laptop's size costs nothing."""

from django.db import migrations

POSTGRES = [
    ("contact_email_search_idx", "customers_contact", '(lower("email")) COLLATE "C"'),
    ("contact_name_search_idx", "customers_contact", '(lower("name")) COLLATE "C"'),
    (
        "contact_phone_search_idx",
        "customers_contact",
        """(regexp_replace("phone", '[^0-9]', '', 'g')) COLLATE "C\"""",
    ),
    (
        "contact_phone_end_search_idx",
        "customers_contact",
        """(reverse(regexp_replace("phone", '[^0-9]', '', 'g'))) COLLATE "C\"""",
    ),
    ("customer_name_search_idx", "customers_customer", '(lower("name")) COLLATE "C"'),
]
SQLITE = [
    ("contact_email_search_idx", "customers_contact", 'lower("email")'),
    ("contact_name_search_idx", "customers_contact", 'lower("name")'),
    ("customer_name_search_idx", "customers_customer", 'lower("name")'),
]


def _indexes(schema_editor):
    return POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE


def create(apps, schema_editor):
    for name, table, expression in _indexes(schema_editor):
        schema_editor.execute(f'CREATE INDEX "{name}" ON "{table}" (({expression}), "id")')


def drop(apps, schema_editor):
    for name, _table, _expression in _indexes(schema_editor):
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]

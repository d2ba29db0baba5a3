# Ticket numbers from a PostgreSQL sequence per year (docs/tickets.md, "Ticket numbers"):
# ``kefu_next_ticket_number(year)`` creates the year's sequence on its first call, starting
# after the year's TicketCounter and the highest number already given, and returns its next
# value. Intakes no longer queue on the counter's row. SQLite keeps TicketCounter.

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION kefu_next_ticket_number(for_year integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    seq text := 'tickets_number_' || for_year;
    first bigint;
BEGIN
    IF to_regclass(seq) IS NULL THEN
        SELECT GREATEST(
            COALESCE((SELECT last FROM tickets_ticketcounter WHERE year = for_year), 0),
            COALESCE((SELECT max(substring(number FROM 8)::bigint) FROM tickets_ticket
                      WHERE number LIKE 'T-' || for_year || '-%'), 0)
        ) + 1 INTO first;
        BEGIN
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I START WITH %s', seq, first);
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL;  -- a concurrent intake created it first
        END;
    END IF;
    RETURN nextval(seq::regclass);
END
$$;
"""

# Back to the counter: each year's counter takes its sequence's last value, so the code
# of before this migration goes on without giving a number twice.
DROP = """
DO $$
DECLARE
    seq record;
BEGIN
    FOR seq IN SELECT sequencename, last_value FROM pg_sequences
               WHERE schemaname = current_schema() AND sequencename ~ '^tickets_number_[0-9]+$'
    LOOP
        INSERT INTO tickets_ticketcounter (year, last)
        VALUES (substring(seq.sequencename FROM 16)::integer, COALESCE(seq.last_value, 0))
        ON CONFLICT (year) DO UPDATE SET last = GREATEST(tickets_ticketcounter.last, EXCLUDED.last);
        EXECUTE format('DROP SEQUENCE %I', seq.sequencename);
    END LOOP;
END
$$;
DROP FUNCTION IF EXISTS kefu_next_ticket_number(integer);
"""


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0011_ticket_sla_columns_leave")]

    operations = [migrations.RunPython(create_function, drop_function)]

"""Moving models' content types between apps (shared by sla's migrations)."""


def move_content_types(app_from, app_to, names):
    """Moves the models' content types (and with them their permissions and admin log
    entries) to the new app; on a new database there are none yet."""

    def move(apps, schema_editor):
        content_type = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        content_type.objects.using(db).filter(app_label=app_from, model__in=names).exclude(
            model__in=content_type.objects.using(db)
            .filter(app_label=app_to)
            .values_list("model", flat=True)
        ).update(app_label=app_to)

    return move

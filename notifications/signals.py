"""Open sockets follow revocation (docs/security.md, "Tokens and live sockets").

Whenever what a user may see or use changes — team membership (either side of
``Team.members`` / ``Team.supervisors``, ``clear()`` and a deleted team included), roles
(``User.groups`` from either side), the user saved (deactivated, made superuser, a new
password) or deleted, a token or a session deleted, a logout — their sockets hear an
``access.changed`` message after commit (``realtime.access_changed_on_commit``) and each
re-reads its access (``QueueConsumer.access_changed``).

A new password also rotates the user's API tokens: they are deleted, so every client has to
log in again with the new one.

Changes made with ``QuerySet.update()`` send no signal; sockets re-read their access on a
ping every few minutes anyway (``consumers.RECHECK_SECONDS``), which also catches a token
or a session that expired.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import SESSION_KEY, get_user_model, user_logged_out
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from .auth import credential_digest
from .realtime import access_changed_on_commit

_CLEARING = "_kefu_access_clearing"
_DELETING = "_kefu_access_deleting"


def _user_field(through: type[models.Model]) -> tuple[str, str]:
    """The through table's column naming the user, and the one naming the other side."""
    user_model = get_user_model()
    user = next(f for f in through._meta.get_fields() if f.related_model is user_model)
    other = next(
        f
        for f in through._meta.get_fields()
        if f.is_relation and f.many_to_one and f.name != user.name
    )
    return user.attname, other.attname  # type: ignore[union-attr]


def _memberships_changed(
    sender: type[models.Model],
    instance: models.Model,
    action: str,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    """``m2m_changed`` of a relation between users and something that grants access."""
    if isinstance(instance, get_user_model()):
        if action in ("post_add", "post_remove", "post_clear"):
            access_changed_on_commit([instance.pk])
        return
    if action in ("post_add", "post_remove"):
        access_changed_on_commit(pk_set or ())
    elif action == "pre_clear":
        # After the clear nobody is left to name: remember who was there.
        user_column, other_column = _user_field(sender)
        members = sender._default_manager.filter(**{other_column: instance.pk})
        clearing = getattr(instance, _CLEARING, {})
        clearing[sender] = list(members.values_list(user_column, flat=True))
        setattr(instance, _CLEARING, clearing)
    elif action == "post_clear":
        access_changed_on_commit(getattr(instance, _CLEARING, {}).pop(sender, ()))


def _team_deleting(sender: Any, instance: Any, **kwargs: Any) -> None:
    ids = set(instance.members.values_list("pk", flat=True))
    ids |= set(instance.supervisors.values_list("pk", flat=True))
    setattr(instance, _DELETING, ids)


def _role_deleting(sender: Any, instance: Any, **kwargs: Any) -> None:
    setattr(instance, _DELETING, set(instance.user_set.values_list("pk", flat=True)))


def _access_holder_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    access_changed_on_commit(getattr(instance, _DELETING, ()))


def _user_saved(
    sender: Any, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    if created:
        return
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a login
    if getattr(instance, "_password", None) is not None:
        # set_password() was called with a new password (a hash upgrade at login is not):
        # the API tokens go, and their deletion closes the sockets they opened.
        from rest_framework.authtoken.models import Token

        Token.objects.filter(user_id=instance.pk).delete()
    access_changed_on_commit([instance.pk])


def _user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    access_changed_on_commit([instance.pk])


def _token_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    access_changed_on_commit([instance.user_id], revoked=[credential_digest(instance.key)])


def _session_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    user_id = instance.get_decoded().get(SESSION_KEY)
    if user_id is not None and str(user_id).isdigit():
        access_changed_on_commit([int(user_id)], revoked=[credential_digest(instance.session_key)])


def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # Sent before the session is flushed: name it, so its sockets close whatever they read.
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is not None and session_key:
        access_changed_on_commit([user.pk], revoked=[credential_digest(session_key)])


def connect() -> None:
    """Called by ``NotificationsConfig.ready``."""
    from django.contrib.sessions.models import Session
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()
    from org.models import Team as team

    group = user_model._meta.get_field("groups").related_model
    for through in (team.members.through, team.supervisors.through, user_model.groups.through):
        m2m_changed.connect(
            _memberships_changed, sender=through, dispatch_uid=f"kefu-access-{through._meta}"
        )
    pre_delete.connect(_team_deleting, sender=team, dispatch_uid="kefu-access-team-deleting")
    post_delete.connect(_access_holder_deleted, sender=team, dispatch_uid="kefu-access-team")
    pre_delete.connect(_role_deleting, sender=group, dispatch_uid="kefu-access-role-deleting")
    post_delete.connect(_access_holder_deleted, sender=group, dispatch_uid="kefu-access-role")
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="kefu-access-user-saved")
    post_delete.connect(_user_deleted, sender=user_model, dispatch_uid="kefu-access-user-deleted")
    post_delete.connect(_token_deleted, sender=Token, dispatch_uid="kefu-access-token")
    post_delete.connect(_session_deleted, sender=Session, dispatch_uid="kefu-access-session")
    user_logged_out.connect(_logged_out, dispatch_uid="kefu-access-logout")

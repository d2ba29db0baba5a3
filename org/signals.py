"""Adapters of Django's many-to-many signals to ``org.services``: a user who gets the agent
role, or joins a team holding it, gets an agent profile whichever side of the relation was
written (``user.groups.add``, ``group.user_set.set``, ``team.members.add``,
``user.kefu_teams.add``, the admin's forms, the teams API). Removals keep the profile."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed

from .models import Team
from .services import ensure_agent_profiles


def _memberships_added(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """``user.groups``/``user.kefu_teams`` (``reverse`` False: the instance is the user) or
    ``group.user_set``/``team.members`` (the instance is the group or team; ``pk_set`` the
    users). Set is remove plus add, so ``post_add`` covers it."""
    if action != "post_add" or not pk_set:
        return
    if sender is Group.user_set.through:
        user_ids = pk_set if reverse else {instance.pk}
    else:  # Team.members: its forward side starts from the team
        user_ids = {instance.pk} if reverse else pk_set
    ensure_agent_profiles(user_ids=user_ids)


def connect() -> None:
    for through in (Group.user_set.through, Team.members.through):
        m2m_changed.connect(
            _memberships_added, sender=through, dispatch_uid=f"kefu-agents-{through._meta.label}"
        )

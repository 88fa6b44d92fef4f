"""Who may see and write which record. The server alone decides.

Rule (documented in docs/server.md):
- Every record has an owner: the username in its `owner` field, or, while that field is
  empty, the user who first pushed the record (`created_by`). Child records (contacts,
  deals, activities, attachments, contracts) follow their OWN owner field, which the
  client fills with the creating user; they do not inherit from the account or deal.
- admin and finance see and write every record.
- rep and manager see and write records whose owner is themselves or a member of one
  of their teams ("shared with the team"). A user without a team sees only their own.
- manager and director also see the records of every user in their region and the
  regions under it (`fieldcrm-server region add`, `user set-region`).
- `owner` may be set only to an existing user the writer could see records of (self or
  a teammate; anyone for admin/finance), so nobody can push a record out of their reach.
- Field-level: `desktop.schema.may_write` (e.g. collected_amount: finance and admin).
"""

from __future__ import annotations

import sqlalchemy as sa

from desktop.schema import Role
from server import tables as t
from server.auth import Principal

ALL_SEEING = frozenset({Role.ADMIN, Role.FINANCE})
# Roles that also see the book of every user in their region and the regions under it.
REGION_SCOPED = frozenset({Role.MANAGER, Role.DIRECTOR})
NO_ACCESS = "You may not change this record: it is not yours or your team's."


def visible_owners(conn: sa.Connection, p: Principal) -> frozenset[str] | None:
    """Usernames whose records `p` may see and write; None means every record."""
    if p.role in ALL_SEEING:
        return None
    names: set[str] = {p.username}
    if p.teams:
        names.update(conn.execute(
            sa.select(t.users.c.username).distinct()
            .join(t.team_members, t.team_members.c.user_id == t.users.c.id)
            .where(t.team_members.c.team.in_(p.teams))).scalars().all())
    if p.role in REGION_SCOPED:
        names.update(region_users(conn, p.user_id))
    return frozenset(names)


def subtree(conn: sa.Connection, region: str) -> set[str]:
    """The region and every region under it."""
    children: dict[str, list[str]] = {}
    for name, parent in conn.execute(sa.select(t.regions.c.name, t.regions.c.parent)):
        children.setdefault(parent or "", []).append(name)
    out, todo = set(), [region]
    while todo:
        r = todo.pop()
        if r not in out:
            out.add(r)
            todo.extend(children.get(r, ()))
    return out


def region_users(conn: sa.Connection, user_id: str) -> list[str]:
    """Users in the region subtree of the user's region (none without a region)."""
    region = conn.execute(sa.select(t.user_regions.c.region)
                          .where(t.user_regions.c.user_id == user_id)).scalar()
    if region is None:
        return []
    return list(conn.execute(
        sa.select(t.users.c.username)
        .join(t.user_regions, t.user_regions.c.user_id == t.users.c.id)
        .where(t.user_regions.c.region.in_(sorted(subtree(conn, region))))).scalars().all())


def user_exists(conn: sa.Connection, username: str) -> bool:
    return conn.execute(
        sa.select(t.users.c.id).where(t.users.c.username == username)).first() is not None


def may_read_blob(conn: sa.Connection, p: Principal, sha256: str) -> bool:
    """A blob is readable by admin/finance, and by anyone who may see records of one of
    the users who uploaded it (the uploader and the uploader's teammates)."""
    if p.role in ALL_SEEING:
        return True
    uploaders = set(conn.execute(
        sa.select(t.users.c.username)
        .join(t.blob_uploaders, t.blob_uploaders.c.user_id == t.users.c.id)
        .where(t.blob_uploaders.c.sha256 == sha256)).scalars().all())
    if not uploaders:
        return False
    visible = visible_owners(conn, p)
    return visible is None or bool(uploaders & visible)

"""contacts: contacts, their identities and notes, per-site privacy rules (audit log: 0011);
every existing visitor becomes a contact (merged by external id and email within a site)

Revision ID: 0013_contacts
Revises: 0012_webhooks
Create Date: 2026-11-29 20:50:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from tresen.storage.models.base import UTCDateTime

revision = "0013_contacts"
down_revision = "0012_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("consent", sa.String(length=16), nullable=False),
        sa.Column("consent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_contacts_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_index("ix_contacts_site_updated", "contacts", ["site_id", "updated_at"])
    op.create_table(
        "contact_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_identities_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_contact_identities_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
            name=op.f("fk_contact_identities_visitor_id_visitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_identities")),
        sa.UniqueConstraint(
            "site_id", "kind", "value", name=op.f("uq_contact_identities_site_id_kind_value")
        ),
    )
    op.create_index(op.f("ix_contact_identities_contact_id"), "contact_identities", ["contact_id"])
    op.create_index(op.f("ix_contact_identities_visitor_id"), "contact_identities", ["visitor_id"])
    op.create_table(
        "contact_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["agents.id"],
            name=op.f("fk_contact_notes_author_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_notes_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_notes")),
    )
    op.create_index(op.f("ix_contact_notes_contact_id"), "contact_notes", ["contact_id"])
    op.create_table(
        "site_privacy",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("message_erasure", sa.String(length=16), nullable=False),
        sa.Column("page_view_days", sa.Integer(), nullable=True),
        sa.Column("conversation_days", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_site_privacy_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_site_privacy")),
    )
    _visitors_to_contacts()


def _visitors_to_contacts() -> None:
    """One contact per visitor, merged by external id and by email within a site."""
    bind = op.get_bind()
    visitors = sa.table(
        "visitors",
        sa.column("id", sa.Integer),
        sa.column("site_id", sa.Integer),
        sa.column("external_id", sa.String),
        sa.column("name", sa.String),
        sa.column("email", sa.String),
        sa.column("attributes", sa.JSON),
        sa.column("created_at", UTCDateTime(timezone=True)),
        sa.column("last_seen_at", UTCDateTime(timezone=True)),
    )
    contacts = sa.table(
        "contacts",
        sa.column("id", sa.Integer),
        sa.column("site_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("attributes", sa.JSON),
        sa.column("tags", sa.JSON),
        sa.column("consent", sa.String),
        sa.column("created_at", UTCDateTime(timezone=True)),
        sa.column("updated_at", UTCDateTime(timezone=True)),
    )
    identities = sa.table(
        "contact_identities",
        sa.column("contact_id", sa.Integer),
        sa.column("site_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("value", sa.String),
        sa.column("verified", sa.Boolean),
        sa.column("visitor_id", sa.Integer),
        sa.column("created_at", UTCDateTime(timezone=True)),
    )
    groups: dict[tuple[int, str, str], int] = {}  # (site, kind, value) -> group
    members: dict[int, list[Any]] = {}
    for row in bind.execute(sa.select(visitors).order_by(visitors.c.id)):
        keys = [(row.site_id, "external_id", row.external_id)] if row.external_id else []
        if row.email and "@" in row.email:
            keys.append((row.site_id, "email", row.email.strip().lower()[:320]))
        group = next((groups[k] for k in keys if k in groups), row.id)
        for k in keys:
            other = groups.get(k)
            if other is not None and other != group:  # two groups meet: fold one into the other
                members[group].extend(members.pop(other))
                for key, g in groups.items():
                    if g == other:
                        groups[key] = group
            groups[k] = group
        members.setdefault(group, []).append(row)
    keys_of: dict[int, list[tuple[int, str, str]]] = {}
    for key, g in groups.items():
        keys_of.setdefault(g, []).append(key)
    for group, rows in members.items():
        first = rows[0]
        attributes: dict[str, Any] = {}
        for r in rows:
            attributes.update(r.attributes or {})
        name = next((r.name for r in reversed(rows) if r.name), None)
        cid = bind.execute(
            sa.insert(contacts)
            .values(
                site_id=first.site_id,
                name=name,
                attributes=attributes,
                tags=[],
                consent="unknown",
                created_at=min(r.created_at for r in rows),
                updated_at=max(r.last_seen_at for r in rows),
            )
            .returning(contacts.c.id)
        ).scalar_one()
        ids = [
            {
                "contact_id": cid,
                "site_id": r.site_id,
                "kind": "visitor",
                "value": str(r.id),
                "verified": r.external_id is not None,
                "visitor_id": r.id,
                "created_at": r.created_at,
            }
            for r in rows
        ]
        for site, kind, value in keys_of.get(group, []):
            verified = kind == "external_id" or any(
                r.external_id and (r.email or "").strip().lower() == value for r in rows
            )
            ids.append(
                {
                    "contact_id": cid,
                    "site_id": site,
                    "kind": kind,
                    "value": value,
                    "verified": verified,
                    "visitor_id": None,
                    "created_at": first.created_at,
                }
            )
        bind.execute(sa.insert(identities), ids)


def downgrade() -> None:
    op.drop_table("site_privacy")
    op.drop_index(op.f("ix_contact_notes_contact_id"), table_name="contact_notes")
    op.drop_table("contact_notes")
    op.drop_index(op.f("ix_contact_identities_visitor_id"), table_name="contact_identities")
    op.drop_index(op.f("ix_contact_identities_contact_id"), table_name="contact_identities")
    op.drop_table("contact_identities")
    op.drop_index("ix_contacts_site_updated", table_name="contacts")
    op.drop_table("contacts")

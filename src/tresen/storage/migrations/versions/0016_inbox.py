"""inbox: snooze, tags, callbacks, full-text search over messages

Revision ID: 0016_inbox
Revises: 0014_assist
Create Date: 2026-11-29 20:50:00

Full text (docs/inbox.md): on SQLite an FTS5 table ``messages_fts`` with external content
(``messages``), kept in step by triggers; on PostgreSQL a generated ``tsvector`` column
``messages.search`` (configuration 'simple') with a GIN index. Neither is in the models: the
search query (``conversations/search.py``) names them itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tresen.storage.models.base import UTCDateTime

revision = "0016_inbox"
down_revision = "0014_assist"
branch_labels = None
depends_on = None

SQLITE_FTS = [
    """CREATE VIRTUAL TABLE messages_fts USING fts5(
        body, content='messages', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0')""",
    """CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
    END""",
    """CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END""",
    """CREATE TRIGGER messages_fts_au AFTER UPDATE OF body ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
    END""",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
]
POSTGRES_FTS = [
    # Punctuation becomes a space first, so "anna@example.com" or "3.5" are words as on SQLite
    # (the 'simple' parser alone keeps e-mail addresses, hosts and numbers whole).
    "ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple'::regconfig, regexp_replace(body, '[[:punct:][:space:]]+', ' ', 'g')))"
    " STORED",
    "CREATE INDEX ix_messages_search ON messages USING gin (search)",
]


def upgrade() -> None:
    op.add_column("conversations", sa.Column("snoozed_until", UTCDateTime(), nullable=True))
    op.create_index(
        op.f("ix_conversations_snoozed_until"), "conversations", ["snoozed_until"], unique=False
    )
    op.create_index(
        "ix_conversations_status_closed", "conversations", ["status", "closed_at"], unique=False
    )
    op.create_table(
        "conversation_tags",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_tags_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "tag", name=op.f("pk_conversation_tags")),
    )
    op.create_index("ix_conversation_tags_tag", "conversation_tags", ["tag"], unique=False)
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("visitor_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("preferred_at", UTCDateTime(), nullable=True),
        sa.Column("preferred_text", sa.String(length=100), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("remind_at", UTCDateTime(), nullable=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_callbacks_site_id_sites"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_callbacks_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
            name=op.f("fk_callbacks_visitor_id_visitors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["agents.id"],
            name=op.f("fk_callbacks_owner_id_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    op.create_index(op.f("ix_callbacks_site_id"), "callbacks", ["site_id"], unique=False)
    op.create_index(
        op.f("ix_callbacks_conversation_id"), "callbacks", ["conversation_id"], unique=False
    )
    op.create_index(op.f("ix_callbacks_owner_id"), "callbacks", ["owner_id"], unique=False)
    op.create_index("ix_callbacks_status_remind", "callbacks", ["status", "remind_at"])
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_FTS if dialect == "sqlite" else POSTGRES_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("messages_fts_ai", "messages_fts_ad", "messages_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_messages_search")
        op.execute("ALTER TABLE messages DROP COLUMN IF EXISTS search")
    op.drop_table("callbacks")
    op.drop_table("conversation_tags")
    op.drop_index("ix_conversations_status_closed", table_name="conversations")
    op.drop_index(op.f("ix_conversations_snoozed_until"), table_name="conversations")
    op.drop_column("conversations", "snoozed_until")

"""send: SQLite's full-text index of messages filled in batches, not by a trigger per send

Revision ID: 0028_send
Revises: 0025_digest
Create Date: 2026-11-30 03:30:00

The trigger ``messages_fts_ai`` made FTS5 write (and now and then merge) index segments inside
every send's transaction: about a sixth of the CPU a persisted message cost, and merges of tens
of milliseconds in the send path (bench/README.md, issue #17). Now ``conversations/search_index``
adds the messages after ``message_search_position.last_message_id`` in batches (periodically and
before every search). The delete and body-update triggers act only on messages already indexed
(one not yet indexed is read as it is when its batch comes). PostgreSQL's generated tsvector is
unchanged; the position table exists there too, unused.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028_send"
down_revision = "0026_reports"
branch_labels = None
depends_on = None

INDEXED = "(SELECT last_message_id FROM message_search_position WHERE id = 1)"
TRIGGERS = [
    f"""CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages WHEN old.id <= {INDEXED} BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END""",
    f"""CREATE TRIGGER messages_fts_au AFTER UPDATE OF body ON messages
        WHEN old.id <= {INDEXED} BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
    END""",
]
ORIGINAL = [  # 0016_inbox's
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
]


def upgrade() -> None:
    op.create_table(
        "message_search_position",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_message_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_search_position")),
    )
    # Every message so far was indexed by the trigger.
    op.execute(
        "INSERT INTO message_search_position (id, last_message_id) "
        "SELECT 1, COALESCE(MAX(id), 0) FROM messages"
    )
    if op.get_bind().dialect.name == "sqlite":
        for name in ("messages_fts_ai", "messages_fts_ad", "messages_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(  # what is not indexed yet, before the trigger takes over again
            f"INSERT INTO messages_fts(rowid, body) SELECT id, body FROM messages "
            f"WHERE id > {INDEXED} ORDER BY id"
        )
        for name in ("messages_fts_ad", "messages_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in ORIGINAL:
            op.execute(statement)
    op.drop_table("message_search_position")

"""email keys: NFKC, case-folded, IDNA domain (one person, one email)

Registrations' and members' ``email_normalised`` held the address trimmed and lower-cased, so
``ｚｏｅ@red.example`` and ``zoe@red.example`` were two people. This fills the column with
``suite_common.emails.email_key`` (``loose_email_key`` for a stored address that has no key).

Where two rows that must be unique (two live registrations of one event, two members of one
organisation) now have the same key, the row that already holds it keeps it and the other keeps
its old value, and the migration names both: the upgrade never fails on old data, and the
organiser decides which of the two is the person.

Revision ID: 0003
Revises: 0002
"""
import sys

from alembic import op
import sqlalchemy as sa

from suite_common.emails import loose_email_key

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BATCH = 1000


def _rekey(rows: list[tuple[int, int, str, str]]) -> list[dict[str, object]]:
    """``rows`` are (id, group, source address, current key); the changes as bind parameters.

    Rows whose key does not change claim theirs first; the others then claim their new key in
    id order unless a row of their group already holds it."""
    taken = set()
    changing = []
    for row_id, group, source, current in rows:
        new = loose_email_key(source)
        if new == current:
            taken.add((group, current))
        else:
            changing.append((row_id, group, new, current))
    changes = []
    for row_id, group, new, current in sorted(changing):
        if (group, new) in taken:
            print(f"email keys: row {row_id} keeps {current!r}: another row of its group already is {new!r}",
                  file=sys.stderr)
            taken.add((group, current))
            continue
        taken.add((group, new))
        changes.append({"row_id": row_id, "key": new})
    return changes


def _apply(table: str, changes: list[dict[str, object]]) -> None:
    statement = sa.text(f"UPDATE {table} SET email_normalised = :key WHERE id = :row_id")
    for start in range(0, len(changes), BATCH):
        op.get_bind().execute(statement, changes[start:start + BATCH])


def upgrade() -> None:
    bind = op.get_bind()
    # Only live registrations must be unique per event (uq_registrations_event_email_live); an
    # ended one takes its key whatever it is, as a new sign-up beside it would.
    live = bind.execute(sa.text(
        "SELECT id, event_id, email, email_normalised FROM registrations "
        "WHERE status NOT IN ('cancelled', 'refunded')")).all()
    ended = bind.execute(sa.text(
        "SELECT id, email, email_normalised FROM registrations WHERE status IN ('cancelled', 'refunded')")).all()
    changes = _rekey([tuple(row) for row in live])
    changes += [{"row_id": row_id, "key": loose_email_key(email)} for row_id, email, current in ended
                if loose_email_key(email) != current]
    _apply("registrations", changes)
    members = bind.execute(sa.text(
        "SELECT id, organisation_id, email_normalised, email_normalised FROM members "
        "WHERE email_normalised IS NOT NULL")).all()
    _apply("members", _rekey([tuple(row) for row in members]))


def downgrade() -> None:
    """The old keys were the addresses trimmed and lower-cased; nothing to undo that the new
    keys would not also match, so the column stays as it is."""

"""The outbox keeps one request per idempotency key, whether written one by one or many at once."""
from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from registration.models.outbox import Outbox
from suite_common.outbox import enqueue, enqueue_many


def outbox(session: Session) -> dict[str, tuple[str, str, dict | None]]:
    return {row.idempotency_key: (row.method, row.path, row.body)
            for row in session.scalars(select(Outbox).order_by(Outbox.id))}


def test_enqueue_many_writes_every_row_in_one_statement(db_session):
    statements: list[str] = []
    engine = db_session.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        enqueue_many(db_session, Outbox, [
            {"target": "notifications", "method": "POST", "path": "/m", "idempotency_key": "a", "body": {"n": 1}},
            {"target": "notifications", "method": "DELETE", "path": "/m/x", "idempotency_key": "b"},
        ])
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert [s.split()[0] for s in statements if "outbox" in s] == ["INSERT"]
    assert outbox(db_session) == {"a": ("POST", "/m", {"n": 1}), "b": ("DELETE", "/m/x", None)}
    row = db_session.scalar(select(Outbox).where(Outbox.idempotency_key == "a"))
    assert (row.attempts, row.delivered_at) == (0, None) and row.next_attempt_at is not None


def test_the_first_request_under_a_key_wins_however_it_was_written(db_session):
    enqueue(db_session, Outbox, "notifications", "POST", "/pending", "pending", {"v": 1})  # not flushed yet
    db_session.flush()
    enqueue(db_session, Outbox, "notifications", "POST", "/flushed", "flushed", {"v": 1})
    enqueue_many(db_session, Outbox, [
        {"target": "notifications", "method": "POST", "path": "/again", "idempotency_key": "pending", "body": {"v": 2}},
        {"target": "notifications", "method": "POST", "path": "/again", "idempotency_key": "flushed", "body": {"v": 2}},
        {"target": "notifications", "method": "POST", "path": "/new", "idempotency_key": "new", "body": {"v": 1}},
        {"target": "notifications", "method": "POST", "path": "/twice", "idempotency_key": "new", "body": {"v": 2}},
    ])
    enqueue(db_session, Outbox, "notifications", "POST", "/later", "new", {"v": 3})
    enqueue_many(db_session, Outbox, [])
    db_session.flush()
    assert outbox(db_session) == {"pending": ("POST", "/pending", {"v": 1}), "flushed": ("POST", "/flushed", {"v": 1}),
                                  "new": ("POST", "/new", {"v": 1})}

"""insert_once: one row per key, and the existing row back, also when a duplicate races the first insert."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import String, UniqueConstraint, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from suite_common.db import Database, insert_many_once, insert_once
from tests.support.databases import fresh_database


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("owner", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(50), unique=True)
    note: Mapped[str] = mapped_column(String(50), default="made by default")


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[Database]:
    with fresh_database(backend, tmp_path, "insert_once") as url:
        database = Database(url)
        Base.metadata.create_all(database.engine)
        yield database
        database.engine.dispose()


def test_the_first_insert_makes_the_row_and_a_second_returns_it(database: Database) -> None:
    with database.session_scope() as session:
        made, inserted = insert_once(session, Item, {"owner": "a", "code": "x", "label": "first"}, key=("owner", "code"))
        assert inserted and made.id is not None and made.note == "made by default"
        again, inserted_again = insert_once(session, Item, {"owner": "a", "code": "x", "label": "second"},
                                            key=("owner", "code"))
        assert (again is made, inserted_again) == (True, False)
        assert again.label == "first", "the first row stands"
    with database.session_scope() as session:
        assert session.scalars(select(Item.label)).all() == ["first"]


def test_a_conflict_on_another_constraint_is_not_swallowed(database: Database) -> None:
    with pytest.raises(IntegrityError), database.session_scope() as session:
        insert_once(session, Item, {"owner": "a", "code": "x", "label": "same"}, key=("owner", "code"))
        insert_once(session, Item, {"owner": "b", "code": "y", "label": "same"}, key=("owner", "code"))


def test_many_rows_in_one_statement_keep_the_first_of_each_key(database: Database) -> None:
    with database.session_scope() as session:
        insert_once(session, Item, {"owner": "a", "code": "x", "label": "there"}, key=("owner", "code"))
        statements: list[str] = []
        event.listen(database.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        insert_many_once(session, Item, [{"owner": "a", "code": "x", "label": "dropped"},
                                         {"owner": "a", "code": "y", "label": "kept"},
                                         {"owner": "a", "code": "y", "label": "repeat dropped"}], key=("owner", "code"))
        assert len([s for s in statements if s.startswith("INSERT")]) == 1
    with database.session_scope() as session:
        assert sorted(session.scalars(select(Item.label))) == ["kept", "there"]


def test_a_duplicate_racing_an_uncommitted_insert_gets_the_committed_row(database: Database) -> None:
    """The first transaction inserts and holds its commit; the second, inserting the same key meanwhile,
    waits (PostgreSQL: on the key; SQLite: on the write lock) and then returns the first one's row."""
    values = {"owner": "a", "code": "race", "label": "winner"}
    first = database.session_factory()
    winner, inserted = insert_once(first, Item, values, key=("owner", "code"))
    assert inserted
    outcome: list[tuple[int, bool, str]] = []

    def duplicate() -> None:
        with database.session_scope() as session:
            row, made = insert_once(session, Item, {**values, "label": "loser"}, key=("owner", "code"))
            outcome.append((row.id, made, row.label))

    racer = threading.Thread(target=duplicate)
    racer.start()
    time.sleep(0.5)
    assert outcome == [], "the duplicate waits for the first transaction"
    first.commit()
    first.close()
    racer.join(30)
    assert outcome == [(winner.id, False, "winner")]
    with database.session_scope() as session:
        assert session.scalars(select(Item.label)).all() == ["winner"]


def test_a_session_that_added_but_did_not_flush_still_finds_its_row(database: Database) -> None:
    with database.session_scope() as session:
        session.add(Item(owner="a", code="pending", label="pending"))
        row, inserted = insert_once(session, Item, {"owner": "a", "code": "pending", "label": "later"},
                                    key=("owner", "code"))
        assert (row.label, inserted) == ("pending", False)

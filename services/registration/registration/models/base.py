from sqlalchemy.orm import DeclarativeBase

from suite_common.db import new_metadata

# Primary keys are PostgreSQL "integer"; a larger id in a URL or cursor cannot exist,
# and binding it would overflow SQLite's driver, so callers refuse it first.
MAX_ID = 2**31 - 1


class Base(DeclarativeBase):
    metadata = new_metadata()

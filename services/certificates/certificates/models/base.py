from sqlalchemy.orm import DeclarativeBase

from suite_common.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()

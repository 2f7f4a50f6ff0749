from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class RateLimitCounter(Base):
    """A fixed-window request counter (public verification), shared by every process and replica."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column()
    expires_at: Mapped[float] = mapped_column(Float, index=True, comment="seconds since the epoch")

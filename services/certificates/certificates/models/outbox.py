from suite_common.outbox import OutboxMixin

from .base import Base


class Outbox(OutboxMixin, Base):
    """Requests to other services ("certificate ready" mails), written in the transaction that causes them."""

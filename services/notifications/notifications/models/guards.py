"""Tables of the request guards: the signatures of accepted service calls (notifications has no
public pages, so no rate-limit counters)."""
from suite_common.auth import SeenSignatureMixin

from .base import Base


class SeenSignature(SeenSignatureMixin, Base):
    """Service calls already accepted, so none is accepted twice."""

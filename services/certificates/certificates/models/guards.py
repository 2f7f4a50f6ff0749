"""Tables of the request guards: rate-limit counters and the signatures of accepted service calls."""
from suite_common.auth import SeenSignatureMixin
from suite_common.ratelimit import RateLimitCounterMixin

from .base import Base


class RateLimitCounter(RateLimitCounterMixin, Base):
    """Request counters of the rate limits, shared by every process and replica."""


class SeenSignature(SeenSignatureMixin, Base):
    """Service calls already accepted, so none is accepted twice."""

"""This service's tables; imported here so metadata is complete."""
from .base import Base

__all__ = ["Base"]

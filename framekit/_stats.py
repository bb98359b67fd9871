"""The pools' statistics snapshot, shared by both implementations."""

from __future__ import annotations

from typing import NamedTuple


class PoolStats(NamedTuple):
    """A snapshot of a :class:`BufferPool`'s counters."""

    in_use_bytes: int  #: capacity of the buffers acquired and not released
    retained_bytes: int  #: capacity cached for reuse
    peak_in_use_bytes: int  #: the most ``in_use_bytes`` has been
    hits: int  #: acquisitions served from the cache
    misses: int  #: acquisitions that needed new memory (all unpooled ones)

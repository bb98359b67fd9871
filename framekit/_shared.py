"""Objects both implementations hand out: pool statistics, slab record proxies."""

from __future__ import annotations

from typing import Any, NamedTuple


class PoolStats(NamedTuple):
    """A snapshot of a :class:`BufferPool`'s counters."""

    in_use_bytes: int  #: capacity of the buffers acquired and not released
    retained_bytes: int  #: capacity cached for reuse
    peak_in_use_bytes: int  #: the most ``in_use_bytes`` has been
    hits: int  #: acquisitions served from the cache
    misses: int  #: acquisitions that needed new memory (all unpooled ones)


class SlabRecord:
    """Attribute access to one record of a :class:`Slab` (``AttributeError`` for unknown
    fields, :class:`StaleHandleError` once the record is freed)."""

    __slots__ = ("_handle", "_slab")

    def __init__(self, slab: Any, handle: int) -> None:
        object.__setattr__(self, "_slab", slab)
        object.__setattr__(self, "_handle", handle)

    @property
    def handle(self) -> int:
        return self._handle  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # a record made without __init__ has no _slab to ask
            raise AttributeError(name)
        try:
            return self._slab.get(self._handle, name)
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            self._slab.set(self._handle, name, value)
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._slab.fields)
        return f"SlabRecord({fields})"

"""framekit.testing, used the way its documentation shows a user fuzzing their own handler."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from conftest import IMPLEMENTATIONS
from hypothesis import given
from hypothesis import strategies as st

import framekit
from framekit.testing import (
    assert_split_invariant,
    decoder_cases,
    delimited_streams,
    length_field_streams,
    line_configs,
    splits,
)

CONFIG = {
    "length_field_length": 2,
    "length_field_offset": 0,
    "length_adjustment": 0,
    "byteorder": "big",
    "max_frame_length": 64,
}


def make() -> Any:
    return framekit.LengthFieldDecoder(2, max_frame_length=64)


def handler(frame: bytes) -> int:
    """A user's protocol handler: it must cope with every frame a peer can send."""
    return len(frame)


@given(st.data())
def test_fuzzing_a_handler_as_documented(data: st.DataObject) -> None:
    stream = data.draw(length_field_streams(CONFIG))
    chunks = data.draw(splits(stream))
    events = assert_split_invariant(make, stream, chunks)
    for event in events:
        if isinstance(event, bytes):
            assert handler(event) <= 62


@given(line_configs(), st.data())
def test_line_strategies(cfg: dict[str, Any], data: st.DataObject) -> None:
    stream = data.draw(delimited_streams(cfg))
    assert_split_invariant(lambda: framekit.LineDecoder(**cfg), stream, data.draw(splits(stream)))


def test_a_broken_decoder_is_caught() -> None:
    class Forgetful:
        """Drops what a feed leaves incomplete: its frames depend on how bytes were split."""

        def __init__(self) -> None:
            self.inner = framekit.LineDecoder()

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def feed(self, data: bytes) -> None:
            self.inner.reset()
            self.inner.feed(data)

        def __iter__(self) -> Any:
            return iter(self.inner)

    with pytest.raises(AssertionError):
        assert_split_invariant(Forgetful, b"one\ntwo\n", [b"on", b"e\ntwo\n"])


@given(decoder_cases(), st.data())
def test_every_kind_of_decoder(
    case: tuple[str, dict[str, Any], bytes], data: st.DataObject
) -> None:
    name, cfg, stream = case
    for module in IMPLEMENTATIONS.values():
        make = functools.partial(getattr(module, name), **cfg)
        assert_split_invariant(make, stream, data.draw(splits(stream)))

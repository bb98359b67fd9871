"""Stub of the Cython core; the pure twin ``framekit._pure`` has the same API."""

from collections.abc import Iterable, Iterator
from typing import Optional, Union

from ._common import BytesLike

Frame = Union[memoryview, bytes]

class _FrameDecoder:
    @property
    def buffered(self) -> int: ...
    def feed(self, data: BytesLike) -> None: ...
    def next_frame(self) -> Optional[Frame]: ...
    def __iter__(self) -> Iterator[Frame]: ...
    def __next__(self) -> Frame: ...
    def decode(self, data: BytesLike) -> list[Frame]: ...
    def get_buffer(self, sizehint: int = -1) -> memoryview: ...
    def buffer_updated(self, nbytes: int) -> None: ...
    def feed_eof(self) -> None: ...
    def reset(self) -> None: ...

class LengthFieldDecoder(_FrameDecoder):
    def __init__(
        self,
        length_field_length: int = 4,
        *,
        length_field_offset: int = 0,
        length_adjustment: int = 0,
        initial_bytes_to_strip: Optional[int] = None,
        byteorder: str = "big",
        max_frame_length: int = ...,
        fail_fast: bool = True,
        copy: bool = False,
    ) -> None: ...

class VarintLengthDecoder(_FrameDecoder):
    def __init__(
        self,
        *,
        length_field_offset: int = 0,
        length_adjustment: int = 0,
        initial_bytes_to_strip: Optional[int] = None,
        max_length_bytes: int = 10,
        max_frame_length: int = ...,
        fail_fast: bool = True,
        copy: bool = False,
    ) -> None: ...

class FixedLengthDecoder(_FrameDecoder):
    def __init__(self, frame_length: int, *, copy: bool = False) -> None: ...

class LengthFieldEncoder:
    def __init__(
        self,
        length_field_length: int = 4,
        *,
        byteorder: str = "big",
        length_adjustment: int = 0,
        length_includes_header: bool = False,
        max_frame_length: int = ...,
    ) -> None: ...
    def encode_header(self, payload_length: int) -> bytes: ...
    def encode(self, payload: BytesLike) -> bytes: ...
    def encode_many(self, payloads: Iterable[BytesLike]) -> bytes: ...
    def decoder(self, **overrides: object) -> LengthFieldDecoder: ...

class VarintLengthEncoder:
    def __init__(self, *, max_frame_length: int = ...) -> None: ...
    def encode_header(self, payload_length: int) -> bytes: ...
    def encode(self, payload: BytesLike) -> bytes: ...
    def encode_many(self, payloads: Iterable[BytesLike]) -> bytes: ...
    def decoder(self, **overrides: object) -> VarintLengthDecoder: ...

class DelimiterDecoder(_FrameDecoder):
    def __init__(
        self,
        delimiters: Union[BytesLike, Iterable[BytesLike]],
        *,
        strip_delimiter: bool = True,
        max_frame_length: int = ...,
        fail_fast: bool = True,
        copy: bool = False,
    ) -> None: ...

class LineDecoder(DelimiterDecoder):
    def __init__(
        self,
        *,
        strip_delimiter: bool = True,
        max_frame_length: int = ...,
        fail_fast: bool = True,
        copy: bool = False,
    ) -> None: ...

class DelimiterEncoder:
    def __init__(self, delimiter: BytesLike, *, check: bool = True) -> None: ...
    def encode(self, payload: BytesLike) -> bytes: ...
    def encode_many(self, payloads: Iterable[BytesLike]) -> bytes: ...
    def decoder(self, **overrides: object) -> DelimiterDecoder: ...

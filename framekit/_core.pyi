"""Stub of the Cython core. It has the pure twin's API, class by class (tests/test_signatures.py
checks that the two agree), so its types are the twin's (and the protocols' decoders, one
source for both)."""

from ._protocol_decoders import *  # noqa: F403
from ._pure import *  # noqa: F403
from ._pure import _FrameDecoder as _FrameDecoder
from ._pure import shared_pool as shared_pool

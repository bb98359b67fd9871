"""Every kind of decoder framekit has, in one place.

``framekit.testing`` (its strategies, ``decoder_cases()``), the property tests, the fuzz harness,
the signature test, the compiled core's ``__signature__`` and the CLI's ``framekit decode``
options all read :data:`KINDS`. The engine's own kinds are entered here; a protocol's entry is
in ``_protocols.py``, with its rule. What else a new built-in rule needs: docs/contributing.md.
"""

from __future__ import annotations

from . import _protocols as P
from ._contract import LIMIT_OPTION, Kind

__all__ = ["BY_NAME", "CLASSES", "KINDS", "PROTOCOL_CLASSES", "Kind"]

_FIELD = frozenset({"offset", "adjust", "strip", "max_frame_length"})

#: the engine's own kinds: its length, delimiter and fixed-length rules
ENGINE_KINDS: tuple[Kind, ...] = (
    Kind(
        "length", "LengthFieldDecoder", "LengthFieldEncoder", "--length-field",
        {"type": int, "metavar": "N", "help": "an N-byte length field"},
        _FIELD | {"little_endian"},
    ),
    Kind(
        "varint", "VarintLengthDecoder", "VarintLengthEncoder", "--varint",
        {"action": "store_true", "help": "a varint length field"}, _FIELD,
    ),
    Kind(
        "line", "LineDecoder", None, "--lines",
        {"action": "store_true", "help": r"lines ending in \n or \r\n"}, LIMIT_OPTION,
    ),
    Kind(
        "delimiter", "DelimiterDecoder", "DelimiterEncoder", "--delimiter",
        {
            "action": "append",
            "metavar": "HEX",
            "help": "frames ending at this delimiter, in hex; several: repeat the flag, or "
            "separate them with spaces or commas ('0d0a 0a')",
        },
        LIMIT_OPTION,
    ),
    Kind(
        "fixed", "FixedLengthDecoder", None, "--fixed",
        {"type": int, "metavar": "N", "help": "frames of N bytes"}, frozenset(),
    ),
)  # fmt: skip

#: a user's rule
RULE_KIND = Kind(
    "rule", "RuleDecoder", None, "--rule",
    {"metavar": "MODULE:FUNCTION", "help": "a framing rule of your own (see RuleDecoder)"},
    LIMIT_OPTION,
)  # fmt: skip

#: every kind: the engine's, the protocols' (registered in _protocols.py, with their rules),
#: a user's rule
KINDS: tuple[Kind, ...] = (*ENGINE_KINDS, *P.KINDS, RULE_KIND)

#: by short name
BY_NAME = {kind.name: kind for kind in KINDS}
#: every public class both builds have (the signature test's, and the core's __signature__s)
CLASSES: tuple[str, ...] = (
    *(kind.decoder for kind in KINDS),
    *(kind.encoder for kind in KINDS if kind.encoder is not None),
    "BufferPool",
    "Slab",
)
#: the protocols' decoders and encoders (framekit exports them by these names)
PROTOCOL_CLASSES: tuple[str, ...] = tuple(
    name for kind in P.KINDS for name in (kind.decoder, kind.encoder) if name is not None
)

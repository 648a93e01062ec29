"""Minimal ICC v2 profiles written from the specification (ICC.1:2001-04), so tests can make CMYK and
greyscale photos with embedded profiles without a colour-management package on the machine.

- `gray_profile()`: a monitor profile with a gamma 2.2 grey curve (kTRC) and the D50 white point;
  `gray_profile(1.0)` is linear, so grey level 128 is half the light: sRGB 188, where a conversion
  that ignores the profile keeps 128.
- `cmyk_profile()`: a printer profile whose A2B0 table (lut8, 2 grid points) maps each CMYK corner
  to the CIELAB colour of the naive RGB it stands for, so converting through it gives sensible
  colours, and visibly different ones from Pillow's naive CMYK-to-RGB formula for deep blacks.
  `cmyk_profile(PRESS_INKS_SRGB)` describes inks as they look on paper instead, mixing
  subtractively: nothing like the pure primaries of the naive formula, so a test sees which
  conversion was used for every ink.
"""

from __future__ import annotations

import itertools
import struct
from typing import Callable

D50 = (0.9642, 1.0, 0.8249)
# Cyan, magenta, yellow and black printed on paper, in sRGB.
PRESS_INKS_SRGB = ((0, 158, 224), (227, 0, 123), (255, 237, 0), (44, 42, 41))


def _s15f16(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15f16(x) + _s15f16(y) + _s15f16(z)


def _desc(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    return (b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_text)) + ascii_text
            + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67)


def _text(text: str) -> bytes:
    return b"text" + b"\0" * 4 + text.encode("ascii") + b"\0"


def _profile(device_class: bytes, colour_space: bytes, pcs: bytes, tags: dict[bytes, bytes]) -> bytes:
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    entries, data = [], b""
    for signature, body in tags.items():
        padded = body + b"\0" * (-len(body) % 4)
        entries.append(struct.pack(">4sII", signature, offset + len(data), len(body)))
        data += padded
    size = 128 + table_size + len(data)
    header = (
        struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000) + device_class + colour_space + pcs
        + b"\0" * 12 + b"acsp" + b"\0" * 24 + struct.pack(">I", 0) + _xyz(*D50)[8:] + b"\0" * 4
    )
    header += b"\0" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + b"".join(entries) + data


def gray_profile(gamma: float = 2.2) -> bytes:
    curve = struct.pack(">IH", 1, round(gamma * 256))
    return _profile(b"mntr", b"GRAY", b"XYZ ", {
        b"desc": _desc(f"PhotoSync test grey gamma {gamma}"), b"wtpt": _xyz(*D50),
        b"cprt": _text("public domain"), b"kTRC": b"curv" + b"\0" * 4 + curve,
    })


def _srgb_to_lab(r: float, g: float, b: float) -> tuple[float, float, float]:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = linear(r), linear(g), linear(b)
    # sRGB to XYZ, already adapted to D50 (Bradford), as ICC profiles use.
    x = 0.4360747 * r + 0.3850649 * g + 0.1430804 * b
    y = 0.2225045 * r + 0.7168786 * g + 0.0606169 * b
    z = 0.0139322 * r + 0.0971045 * g + 0.7141733 * b

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x / D50[0]), f(y / D50[1]), f(z / D50[2])
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def _naive_rgb(c: int, m: int, y: int, k: int) -> tuple[float, float, float]:
    return (1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)


def _mixed_inks(inks: tuple[tuple[int, int, int], ...]) -> Callable[..., tuple[float, float, float]]:
    def rgb(*present: int) -> tuple[float, float, float]:
        colour = (1.0, 1.0, 1.0)  # paper
        for ink, used in zip(inks, present):
            if used:
                colour = tuple(value * channel / 255 for value, channel in zip(colour, ink))
        return colour

    return rgb


def cmyk_profile(inks: tuple[tuple[int, int, int], ...] | None = None) -> bytes:
    corner_rgb = _naive_rgb if inks is None else _mixed_inks(inks)
    clut = b""
    for c, m, y, k in itertools.product((0, 1), repeat=4):  # the first channel varies slowest
        lightness, a, b = _srgb_to_lab(*corner_rgb(c, m, y, k))
        clut += bytes((round(lightness * 255 / 100), round(a + 128), round(b + 128)))
    identity_matrix = b"".join(_s15f16(1.0 if row == col else 0.0) for row in range(3) for col in range(3))
    ramp = bytes(range(256))
    lut = (b"mft1" + b"\0" * 4 + bytes((4, 3, 2, 0)) + identity_matrix + ramp * 4 + clut + ramp * 3)
    return _profile(b"prtr", b"CMYK", b"Lab ", {
        b"desc": _desc("PhotoSync test CMYK"), b"wtpt": _xyz(*D50), b"cprt": _text("public domain"), b"A2B0": lut,
    })

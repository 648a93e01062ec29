"""Sizes for people: 1536 -> "1.5 KiB"."""

from __future__ import annotations

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(size: int) -> str:
    """Binary units (1 KiB = 1024 B), one decimal above bytes; a negative size keeps its sign."""
    sign = "-" if size < 0 else ""
    scaled = float(abs(size))
    unit = 0
    while scaled >= 1024 and unit < len(_UNITS) - 1:
        scaled /= 1024
        unit += 1
    return f"{sign}{abs(size)} B" if unit == 0 else f"{sign}{scaled:.1f} {_UNITS[unit]}"

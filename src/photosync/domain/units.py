"""Sizes as people read them."""

from __future__ import annotations


def human_bytes(size: int) -> str:
    """Decimal units, as phones and storage vendors show them: 2.1 GB, 512 kB, 17 B."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")

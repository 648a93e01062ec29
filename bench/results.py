"""bench/RESULTS.md holds one section per benchmark, each between its own markers, so every benchmark
rewrites only its own figures."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def write_section(name: str, section: str, results: Path = RESULTS) -> None:
    start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    block = f"{start}\n{section.rstrip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = f"{before}{block}{rest.split(end, 1)[1]}"
    else:
        text = f"{text.rstrip()}\n\n{block}\n"
    results.write_text(text)

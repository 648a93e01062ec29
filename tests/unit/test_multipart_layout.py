"""How a multipart upload is cut into parts: S3's bounds (at least 5 MiB a part but the last, at most
10,000 parts) for every size the API accepts, and the client reading the same layout back."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from photosync.client.multipart import MultipartGrant
from photosync.domain.validation import MAX_PARTS, MIN_MULTIPART_BYTES
from photosync.services.uploads import part_layout

MIB, GIB = 1024**2, 1024**3


@pytest.mark.parametrize(
    "size", [MIN_MULTIPART_BYTES, 8 * MIB, 8 * MIB + 1, GIB, 5 * GIB + 1, 20 * GIB, 78 * GIB + 1, 5 * 1024**4],
    ids=["5MiB", "8MiB", "8MiB+1", "1GiB", "5GiB+1", "20GiB", "78GiB+1", "5TiB"],
)
def test_parts_cover_the_file_within_s3_bounds(size):
    part_size, part_count = part_layout(size)

    assert 1 <= part_count <= MAX_PARTS
    assert part_size >= 5 * MIB and part_size % MIB == 0
    last = size - (part_count - 1) * part_size
    assert 0 < last <= part_size


def test_a_1_gib_file_is_128_parts_of_8_mib_and_the_client_reads_the_same_ranges():
    assert part_layout(GIB) == (8 * MIB, 128)
    grant = MultipartGrant("u", 8 * MIB, 3, datetime.now(timezone.utc))
    assert [grant.part_range(n, 20 * MIB) for n in (1, 2, 3)] == [(0, 8 * MIB), (8 * MIB, 8 * MIB), (16 * MIB, 4 * MIB)]

"""Rows for ``COPY ... FROM STDIN (FORMAT binary)``, encoded from Arrow arrays in bulk.

The binary format spares the server the parsing of text (numbers, dates, hex geometry),
which is most of its work in a text COPY. Each field is turned into one or more binary
arrays (length prefix, payload) with NumPy and Arrow compute; joining them row-wise gives
one binary value per row, so rows can still be filtered after encoding.

Format: "Binary Format" in https://www.postgresql.org/docs/current/sql-copy.html — a
header, then per row the field count and each field as its byte length (``-1`` for NULL)
and its bytes, big-endian; then a trailer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from layers.base import FieldType

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(4) + bytes(4)
"""Signature, flags (no OIDs), header extension length."""
TRAILER = b"\xff\xff"
NULL = np.frombuffer((-1).to_bytes(4, "big", signed=True), np.uint8)
TEXT_OID = 25
PG_EPOCH_DAYS = 10_957
"""Days from 1970-01-01 (Arrow's date32 epoch) to 2000-01-01 (PostgreSQL's)."""
BINARY = pa.large_binary()


def encode_rows(fields: list[tuple[pa.Array, FieldType]], geometry: pa.Array) -> pa.Array:
    """One large_binary value per row: the tuple of ``fields`` then the geometry (EWKB).

    Rows whose geometry is null come out null (they are never copied).
    """
    n = len(geometry)
    count = np.frombuffer((len(fields) + 1).to_bytes(2, "big"), np.uint8)
    parts = [_fixed_width(np.tile(count, (n, 1)), None)]
    for values, ftype in fields:
        parts += _ENCODERS[ftype](values)
    geometry = pc.cast(geometry, BINARY)
    parts += [_length_prefix(geometry), geometry]
    return pc.binary_join_element_wise(*parts, pa.scalar(b"", BINARY))


def rows_buffer(rows: pa.Array) -> memoryview:
    """The bytes of the (non-null) encoded rows, ready to be written to the COPY."""
    if rows.null_count:
        rows = rows.drop_null()
    if not len(rows):
        return memoryview(b"")
    offsets = np.frombuffer(rows.buffers()[1], np.int64)[rows.offset:rows.offset + len(rows) + 1]
    return memoryview(rows.buffers()[2])[int(offsets[0]):int(offsets[-1])]  # type: ignore[arg-type]


# -- field encoders: each gives binary arrays whose row-wise join is the field ----------------

def _fixed_width(matrix: np.ndarray, nulls: np.ndarray | None) -> pa.Array:
    """Rows of a (n, width) uint8 matrix as a binary array; null rows keep 4 bytes only
    (their first 4 bytes must hold the NULL length)."""
    n, width = matrix.shape
    if nulls is None or not nulls.any():
        offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
        data = np.ascontiguousarray(matrix).reshape(-1)
    else:
        keep = np.ones((n, width), bool)
        keep[nulls, 4:] = False
        data = matrix[keep]
        offsets = np.concatenate([[0], np.cumsum(np.where(nulls, 4, width))]).astype(np.int64)
    return pa.Array.from_buffers(BINARY, n, [None, pa.py_buffer(offsets),
                                             pa.py_buffer(data)])


def _numeric(values: pa.Array, dtype: str, width: int,
             transform: Callable[[np.ndarray], np.ndarray] | None = None) -> list[pa.Array]:
    n = len(values)
    nulls = np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False), bool)
    filled = values.fill_null(0) if values.null_count else values
    raw = filled.to_numpy(zero_copy_only=False)
    if transform is not None:
        raw = transform(raw)
    matrix = np.empty((n, 4 + width), np.uint8)
    matrix[:, :4] = np.frombuffer(width.to_bytes(4, "big"), np.uint8)
    matrix[:, 4:] = np.asarray(raw, dtype=dtype).view(np.uint8).reshape(n, width)
    matrix[nulls, :4] = NULL
    return [_fixed_width(matrix, nulls)]


def _length_prefix(values: pa.Array) -> pa.Array:
    """4-byte big-endian byte length of each value, -1 for nulls."""
    lengths = pc.binary_length(values).fill_null(-1).to_numpy(zero_copy_only=False)
    matrix = np.asarray(lengths, dtype=">i4").view(np.uint8).reshape(len(values), 4)
    return _fixed_width(matrix, None)


def _variable(values: pa.Array) -> list[pa.Array]:
    data = pc.cast(values, BINARY)
    return [_length_prefix(data), data.fill_null(b"") if data.null_count else data]


def _text_list(values: pa.Array) -> list[pa.Array]:
    """text[]: number of dimensions, has-null flag, element type, then the dimension (size,
    lower bound 1) and each element with its length; an empty array has no dimension."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.list_(pa.string()))
    n = len(values)
    offsets = values.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    start = int(offsets[0])
    offsets -= start
    flat = values.values.slice(start, int(offsets[-1]))
    elements = pc.binary_join_element_wise(*_variable(flat), pa.scalar(b"", BINARY))
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), elements)
    joined = pc.binary_join(lists, pa.scalar(b"", BINARY))
    counts = np.diff(offsets)
    has_null = np.zeros(n, bool)
    if flat.null_count:
        cum = np.concatenate([[0], np.cumsum(np.asarray(
            flat.is_null().to_numpy(zero_copy_only=False), bool))])
        has_null = (cum[offsets[1:]] - cum[offsets[:-1]]) > 0
    ints = np.empty((n, 5), ">i4")
    ints[:, 0] = counts > 0
    ints[:, 1] = has_null
    ints[:, 2] = TEXT_OID
    ints[:, 3] = counts
    ints[:, 4] = 1
    header = first_bytes(ints.view(np.uint8).reshape(n, 20), np.where(counts > 0, 20, 12))
    payload = pc.binary_join_element_wise(header, joined, pa.scalar(b"", BINARY))
    nulls = np.asarray(values.is_null().to_numpy(zero_copy_only=False), bool)
    lengths = pc.binary_length(payload).to_numpy(zero_copy_only=False).astype(np.int64)
    lengths[nulls] = -1
    prefix = _fixed_width(np.asarray(lengths, dtype=">i4").view(np.uint8).reshape(n, 4), None)
    if nulls.any():
        payload = pc.if_else(pa.array(nulls), pa.scalar(b"", BINARY), payload)
    return [prefix, payload]


def first_bytes(matrix: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """The first ``lengths[i]`` bytes of each row of ``matrix`` as a binary array."""
    n, width = matrix.shape
    keep = np.arange(width)[None, :] < lengths[:, None]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return pa.Array.from_buffers(BINARY, n, [None, pa.py_buffer(offsets),
                                             pa.py_buffer(np.ascontiguousarray(matrix)[keep])])


_ENCODERS = {
    FieldType.TEXT: _variable,
    FieldType.INTEGER: lambda v: _numeric(v, ">i8", 8),
    FieldType.FLOAT: lambda v: _numeric(v, ">f8", 8),
    FieldType.DATE: lambda v: _numeric(v.cast(pa.int32()), ">i4", 4,
                                       lambda d: d.astype(np.int64) - PG_EPOCH_DAYS),
    FieldType.BOOLEAN: lambda v: _numeric(v.cast(pa.uint8()), "u1", 1),
    FieldType.TEXT_LIST: _text_list,
}
assert set(_ENCODERS) == set(FieldType)

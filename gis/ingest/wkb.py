"""The coordinates of WKB values, read and rewritten in bulk without making geometries.

Only the usual form is read: little-endian, 2D, Point to MultiPolygon (type codes 1 to 6),
which is how GDAL hands over 2D data. A value in any other form (big-endian, Z or M,
EWKB, collection, damaged, or with more than :data:`MAX_ITEMS` parts or rings) is left
alone, for GEOS to decode and for the slower checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numpy.lib.stride_tricks import as_strided, sliding_window_view

MAX_ITEMS = 1_000
"""Parts of a multi-geometry, or rings of a polygon, read in bulk; more are left alone
(each one costs a pass over the batch)."""
POINT_BYTES = 16


@dataclass
class WkbCoordinates:
    """The coordinates of the values of a binary array that could be read."""

    read: np.ndarray
    """Per value: whether it was read (its coordinates are below)."""
    point_value: np.ndarray
    """Per point: index of its value."""
    x: np.ndarray
    y: np.ndarray
    _array: pa.Array
    _positions: np.ndarray
    _copies: np.ndarray
    """Points that repeat, bit for bit, the first point of their block (closed rings),"""
    _originals: np.ndarray
    """and the points they repeat."""

    def transform(self, fn: Callable[[np.ndarray, np.ndarray], None]) -> None:
        """Apply ``fn(x, y)``, which transforms coordinate arrays in place; the closing
        point of a ring gets a copy of its first point's result instead of its own."""
        if not len(self._copies):
            fn(self.x, self.y)
            return
        own = np.ones(len(self.x), bool)
        own[self._copies] = False
        x, y = self.x[own], self.y[own]
        fn(x, y)
        self.x[own], self.y[own] = x, y
        self.x[self._copies] = self.x[self._originals]
        self.y[self._copies] = self.y[self._originals]

    def values_with_coordinates(self) -> np.ndarray:
        """The values as an object array of bytes (None for nulls), with the present
        coordinates written into those that were read."""
        data = np.frombuffer(self._array.buffers()[2], np.uint8).copy() \
            if self._array.buffers()[2] is not None else np.zeros(0, np.uint8)
        if len(self._positions):
            window = as_strided(data, (len(data) - POINT_BYTES + 1, POINT_BYTES), (1, 1))
            window[self._positions] = np.column_stack([self.x, self.y]).astype(
                "<f8").view(np.uint8)
        buffers = self._array.buffers()
        rebuilt = pa.Array.from_buffers(self._array.type, len(self._array),
                                        [buffers[0], buffers[1], pa.py_buffer(data)],
                                        offset=self._array.offset)
        return rebuilt.to_numpy(zero_copy_only=False)


def read_coordinates(values: pa.Array) -> WkbCoordinates:
    """Find the coordinates of every WKB value of ``values`` (binary or large_binary)."""
    n = len(values)
    buffers = values.buffers()
    wide = pa.types.is_large_binary(values.type)
    offsets = np.frombuffer(buffers[1], np.int64 if wide else np.int32)[
        values.offset:values.offset + n + 1].astype(np.int64)
    data = np.frombuffer(buffers[2], np.uint8) if buffers[2] is not None \
        else np.zeros(0, np.uint8)
    valid = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), bool)
    reader = _Reader(data)
    starts, ends = offsets[:-1], offsets[1:]
    rows = np.flatnonzero(valid)
    after = reader.geometry(rows, starts[rows], ends[rows], (1, 2, 3, 4, 5, 6))
    read = np.zeros(n, bool)
    read[rows] = after == ends[rows]
    if reader.rows:
        block_value = np.concatenate(reader.rows)
        block_start = np.concatenate(reader.starts)
        block_count = np.concatenate(reader.counts)
        keep = read[block_value]
        block_value, block_start, block_count = (
            block_value[keep], block_start[keep], block_count[keep])
    else:
        block_value = block_start = block_count = np.zeros(0, np.int64)
    total = int(block_count.sum())
    first = np.cumsum(block_count) - block_count
    positions = (np.repeat(block_start, block_count) + POINT_BYTES *
                 (np.arange(total) - np.repeat(first, block_count)))
    if total:
        xy = sliding_window_view(data, POINT_BYTES)[positions].view("<f8")
        x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    else:
        x = y = np.zeros(0)
    last = first + block_count - 1
    longer = block_count > 1
    bits = xy.view(np.uint64) if total else np.zeros((0, 2), np.uint64)
    repeats = longer.copy()
    repeats[longer] = (bits[first[longer]] == bits[last[longer]]).all(axis=1)
    return WkbCoordinates(read=read, point_value=np.repeat(block_value, block_count),
                          x=x, y=y, _array=values, _positions=positions,
                          _copies=last[repeats], _originals=first[repeats])


class _Reader:
    """Walks WKB values in bulk, level by level, noting their blocks of coordinates
    (value, byte offset, point count). A walk returns, per value, the offset just after
    the geometry read, or -1 where it could not be read."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self.words = sliding_window_view(data, 4) if len(data) >= 4 else None
        self.rows: list[np.ndarray] = []
        self.starts: list[np.ndarray] = []
        self.counts: list[np.ndarray] = []

    def u32(self, pos: np.ndarray) -> np.ndarray:
        assert self.words is not None
        return self.words[pos].view("<u4")[:, 0].astype(np.int64)

    def block(self, rows: np.ndarray, start: np.ndarray, count: np.ndarray) -> None:
        self.rows.append(rows)
        self.starts.append(start)
        self.counts.append(count)

    def geometry(self, rows: np.ndarray, cur: np.ndarray, end: np.ndarray,
                 allowed: tuple[int, ...]) -> np.ndarray:
        after = np.full(len(rows), -1, np.int64)
        idx = np.flatnonzero(cur + 9 <= end)  # byte order, type, first count
        if not len(idx):
            return after
        order = self.data[cur[idx]]
        kind = self.u32(cur[idx] + 1)
        keep = (order == 1) & np.isin(kind, allowed)
        idx, kind = idx[keep], kind[keep]
        for code in np.unique(kind):
            sel = idx[kind == code]
            if code == 1:
                self._point(rows, cur, end, after, sel)
            elif code == 2:
                self._line(rows, cur, end, after, sel)
            elif code == 3:
                self._polygon(rows, cur, end, after, sel)
            else:
                self._multi(rows, cur, end, after, sel, int(code) - 3)
        return after

    def _point(self, rows: np.ndarray, cur: np.ndarray, end: np.ndarray, after: np.ndarray,
               sel: np.ndarray) -> None:
        sel = sel[cur[sel] + 5 + POINT_BYTES <= end[sel]]
        self.block(rows[sel], cur[sel] + 5, np.ones(len(sel), np.int64))
        after[sel] = cur[sel] + 5 + POINT_BYTES

    def _line(self, rows: np.ndarray, cur: np.ndarray, end: np.ndarray, after: np.ndarray,
              sel: np.ndarray) -> None:
        count = self.u32(cur[sel] + 5)
        fits = count <= (end[sel] - cur[sel] - 9) // POINT_BYTES
        sel, count = sel[fits], count[fits]
        self.block(rows[sel], cur[sel] + 9, count)
        after[sel] = cur[sel] + 9 + POINT_BYTES * count

    def _polygon(self, rows: np.ndarray, cur: np.ndarray, end: np.ndarray,
                 after: np.ndarray, sel: np.ndarray) -> None:
        rings = self.u32(cur[sel] + 5)
        alive = (rings <= (end[sel] - cur[sel] - 9) // 4) & (rings <= MAX_ITEMS)
        at, stop = cur[sel] + 9, end[sel]
        for k in range(int(rings[alive].max()) if alive.any() else 0):
            a = np.flatnonzero(alive & (rings > k))
            fits = at[a] + 4 <= stop[a]
            alive[a[~fits]] = False
            a = a[fits]
            count = self.u32(at[a])
            fits = count <= (stop[a] - at[a] - 4) // POINT_BYTES
            alive[a[~fits]] = False
            a, count = a[fits], count[fits]
            self.block(rows[sel[a]], at[a] + 4, count)
            at[a] += 4 + POINT_BYTES * count
        after[sel[alive]] = at[alive]

    def _multi(self, rows: np.ndarray, cur: np.ndarray, end: np.ndarray, after: np.ndarray,
               sel: np.ndarray, part: int) -> None:
        parts = self.u32(cur[sel] + 5)
        alive = (parts <= (end[sel] - cur[sel] - 9) // 9) & (parts <= MAX_ITEMS)
        at, stop = cur[sel] + 9, end[sel]
        for k in range(int(parts[alive].max()) if alive.any() else 0):
            a = np.flatnonzero(alive & (parts > k))
            done = self.geometry(rows[sel[a]], at[a], stop[a], (part,))
            alive[a[done < 0]] = False
            at[a[done >= 0]] = done[done >= 0]
        after[sel[alive]] = at[alive]

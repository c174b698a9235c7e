"""Keys repeated within a JSON object, found in files of any size without parsing them.

``{"COD_ZONA": "ZH-1", "COD_ZONA": "ZH-9"}`` is valid JSON syntax, but which value was
meant is unknowable, and readers differ (GDAL keeps the last one without saying so). A
GeoJSON file is scanned here before it is read: NumPy finds the quotes (not escaped), and
the braces and colons outside strings, 16 MiB at a time; then the keys of each chunk are
coded as integers (object id and key name) so that repeats are found at once, keeping
only the keys of the objects still open from one chunk to the next. Memory stays flat
and the scan costs a fraction of what GDAL takes to read the same file.
"""

from __future__ import annotations

import json
import mmap
from pathlib import Path

import numpy as np

_SCAN_CHUNK = 1 << 24
"""Bytes of a JSON file scanned at a time for repeated keys (memory stays flat)."""
QUOTE, BACKSLASH, OPEN, CLOSE, COLON = 34, 92, 123, 125, 58


def first_repeated_key(path: Path) -> tuple[bytes, int] | None:
    """The first key repeated within one object of the JSON file ``path``, and the number
    of the feature (1, 2...) it is in, 0 outside the features; None when no key repeats
    (or the text is not JSON: the reader then says what is wrong with it)."""
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return _scan(mm)  # it returns before the mapping closes: no views of it are left


def _scan(mm: mmap.mmap) -> tuple[bytes, int] | None:
    data = np.frombuffer(mm, np.uint8)
    scan = _KeyScan()
    inside, run, last_quotes = 0, 0, np.zeros(0, np.int64)
    for start in range(0, len(data), _SCAN_CHUNK):
        chunk = data[start:start + _SCAN_CHUNK]
        quotes = _real_quotes(chunk, run) + start
        run = _trailing_backslashes(chunk, run)
        marks = np.flatnonzero((chunk == OPEN) | (chunk == CLOSE) | (chunk == COLON))
        marks = marks[(np.searchsorted(quotes, marks + start) + inside) % 2 == 0]
        inside = (inside + len(quotes)) % 2
        known = np.concatenate([last_quotes, quotes])
        last_quotes = known[-2:]
        found = scan.chunk(mm, start, chunk[marks], marks + start, known,
                           np.flatnonzero(chunk == BACKSLASH) + start)
        if found is not None:
            return found if found[0] else None
    return None


class _KeyScan:
    """The objects open between chunks, with the keys seen in them, and where the
    features are; :meth:`chunk` looks at the braces and keys of one chunk at once.

    A key in an object is coded as one integer, ``object id << 32 | key id`` (key ids
    number the distinct key names), so repeats are found by NumPy.
    """

    def __init__(self) -> None:
        self.stack = np.zeros(0, np.int64)
        """Ids of the objects open at the start of the chunk, outermost first."""
        self.seen = np.zeros(0, np.int64)
        """Codes of the keys already read in those objects."""
        self.names: dict[bytes, int] = {}
        self.next_id = 0
        self.features_at = -1
        """Position of the top-level key "features" (-1 until found)."""
        self.features_before = 0

    def chunk(self, mm: mmap.mmap, start: int, kind: np.ndarray, pos: np.ndarray,
              quotes: np.ndarray, backslashes: np.ndarray) -> tuple[bytes, int] | None:
        """``(key, feature)`` of a repeated key; ``(b"", 0)`` when the text is not JSON.
        The chunk begins at ``start``; ``kind`` and ``pos``: its braces and colons outside
        strings; ``quotes``: string delimiters (with the last two of the previous chunk)."""
        depth = len(self.stack) + np.cumsum((kind == OPEN).astype(np.int64)
                                            - (kind == CLOSE))
        if len(depth) and depth.min() < 0:
            return b"", 0
        opens = np.flatnonzero(kind == OPEN)
        ids = self.next_id + np.arange(len(opens))
        self.next_id += len(opens)
        open_depth = depth[opens]
        colons = np.flatnonzero(kind == COLON)
        key_depth = depth[colons]
        ends = np.searchsorted(quotes, pos[colons]) - 1  # the key's closing quote
        keep = (key_depth > 0) & (ends >= 1)
        colons, key_depth, ends = colons[keep], key_depth[keep], ends[keep]
        first, stop = quotes[ends - 1] + 1, quotes[ends]
        names, new = self.names, self.names.setdefault
        key_ids = np.array([new(mm[a:b], len(names)) for a, b in
                            zip(first.tolist(), stop.tolist(), strict=True)], np.int64)
        escaped = ((np.searchsorted(backslashes, first) < np.searchsorted(backslashes, stop))
                   | (first < start))  # (a key begun in the previous chunk: look at it)
        for i in np.flatnonzero(escaped).tolist():  # compare keys as JSON reads them
            key_ids[i] = new(_json_key(mm[int(first[i]):int(stop[i])]), len(names))
        if self.features_at < 0 and b"features" in names:
            top = np.flatnonzero((key_depth == 1) & (key_ids == names[b"features"]))
            self.features_at = int(pos[colons[top[0]]]) if len(top) else -1
        at_2 = pos[opens[open_depth == 2]]
        owners = self._owners(opens, open_depth, ids, colons, key_depth)
        codes = np.concatenate([self.seen, (owners << 32) | key_ids])
        order = np.argsort(codes, kind="stable")
        repeats = order[1:][codes[order[1:]] == codes[order[:-1]]]
        if len(repeats):
            i = int(repeats.min()) - len(self.seen)
            where = int(pos[colons[i]])
            key = next(k for k, v in names.items() if v == key_ids[i])
            inner = key_depth[i] > 1 and 0 <= self.features_at < where
            return key, (self.features_before + int(
                ((at_2 > self.features_at) & (at_2 < where)).sum())) if inner else 0
        if self.features_at >= 0:
            self.features_before += int((at_2 > self.features_at).sum())
        self._close(depth, open_depth, ids, codes)
        return None

    def _owners(self, opens: np.ndarray, open_depth: np.ndarray, ids: np.ndarray,
                colons: np.ndarray, key_depth: np.ndarray) -> np.ndarray:
        """Id of the object each key belongs to: the last one opened at its depth before
        it, in this chunk or else before it."""
        owners = self.stack[np.minimum(key_depth, len(self.stack)) - 1] \
            if len(self.stack) else np.full(len(colons), -1, np.int64)
        if len(opens) and len(colons):
            scale = int(max(opens.max(), colons.max())) + 1
            order = np.lexsort((opens, open_depth))
            code = open_depth[order] * scale + opens[order]
            k = np.searchsorted(code, key_depth * scale + colons) - 1
            cand = order[np.maximum(k, 0)]
            here = (k >= 0) & (open_depth[cand] == key_depth)
            owners = np.where(here, ids[cand], owners)
        return owners

    def _close(self, depth: np.ndarray, open_depth: np.ndarray, ids: np.ndarray,
               codes: np.ndarray) -> None:
        """The objects still open at the end of the chunk, and their keys."""
        final = int(depth[-1]) if len(depth) else len(self.stack)
        stack = np.concatenate([self.stack[:final],
                                np.full(max(0, final - len(self.stack)), -1, np.int64)])
        levels, last = np.unique(open_depth[::-1], return_index=True)
        inner = levels <= final
        stack[levels[inner] - 1] = ids[::-1][last[inner]]
        self.stack = stack
        self.seen = codes[np.isin(codes >> 32, stack)]


def _real_quotes(chunk: np.ndarray, carried: int) -> np.ndarray:
    """Positions of the quotes of ``chunk`` that are not escaped (an odd run of
    backslashes before them); ``carried``: backslashes ending the previous chunk."""
    quotes = np.flatnonzero(chunk == QUOTE)
    backslashes = np.flatnonzero(chunk == BACKSLASH)
    if not len(quotes) or not (len(backslashes) or carried):
        return quotes
    after = quotes[(quotes > 0) & (chunk[quotes - 1] == BACKSLASH)]
    if len(backslashes):
        starts = backslashes[np.r_[True, np.diff(backslashes) > 1]]  # where runs begin
        begun = starts[np.searchsorted(starts, after - 1, side="right") - 1]
        run = after - begun + np.where(begun == 0, carried, 0)
    else:
        run = np.zeros(0, np.int64)
    if carried and quotes[0] == 0:  # a quote right after the previous chunk's backslashes
        after, run = np.r_[0, after], np.r_[carried, run]
    return np.setdiff1d(quotes, after[run % 2 == 1], assume_unique=True)


def _trailing_backslashes(chunk: np.ndarray, carried: int) -> int:
    tail = np.flatnonzero(chunk != BACKSLASH)
    return len(chunk) - 1 - int(tail[-1]) if len(tail) else carried + len(chunk)


def _json_key(raw: bytes) -> bytes:
    """A key as JSON means it (``"\\u0061"`` is ``"a"``)."""
    if b"\\" not in raw:
        return raw
    try:
        return str(json.loads(b'"' + raw + b'"')).encode()
    except ValueError:
        return raw

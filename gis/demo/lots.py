"""Subdivision of blocks into lots (predios): integer lot counts per block that hit the
requested total, then one or two rows of quadrilateral lots per block, corner lots with
an ochavo. Lots of a block share their vertices exactly, so they never overlap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gis.demo.blocks import Blocks

MIN_FRONT = 5.0
"""Narrowest lot frontage (m); caps the lots of a block."""
MIN_TWO_ROWS = 4
"""Blocks with fewer lots have a single row."""
CHAMFER = 3.0
"""Ochavo (corner cut) of corner lots, m."""


def allocate(total: int, weights: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Integer counts ``1 <= n <= caps`` proportional to ``weights`` summing to ``total``.

    Parameters
    ----------
    total : int
    weights : numpy.ndarray of float > 0
    caps : numpy.ndarray of int >= 1

    Returns
    -------
    numpy.ndarray of int64

    Raises
    ------
    ValueError
        If ``total`` is below the number of blocks or above the sum of the caps.
    """
    if total < len(weights) or total > caps.sum():
        raise ValueError(f"cannot place {total} lots in {len(weights)} blocks "
                         f"(capacity {int(caps.sum())})")
    lo, hi = 0.0, float(total / weights.min()) + 1.0
    for _ in range(100):
        k = (lo + hi) / 2
        if np.clip(np.floor(k * weights), 1, caps).sum() > total:
            hi = k
        else:
            lo = k
    n = np.clip(np.floor(lo * weights), 1, caps).astype(np.int64)
    missing = total - int(n.sum())
    if missing:
        frac = np.where(n < caps, lo * weights - np.floor(lo * weights), -1.0)
        n[np.argsort(-frac, kind="stable")[:missing]] += 1
    return n


@dataclass
class Lots:
    """Lots as flat arrays; ``coords``/``ring`` are the vertices (EPSG:32719) in order."""

    block: np.ndarray
    row: np.ndarray
    """0: fronts the block's v=0 side; 1: fronts the v=width side."""
    t_mid: np.ndarray
    """Position of the lot's centre along its block, 0-1."""
    coords: np.ndarray
    ring: np.ndarray
    """Lot index of each vertex in ``coords``."""

    def __len__(self) -> int:
        return len(self.block)


def _cuts(counts: np.ndarray, gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Cut positions 0..1 of ``counts[b]`` intervals per block, jittered widths.

    Returns (positions, start) with block b's k+1 positions at start[b]:start[b]+k+1.
    """
    widths = gen.uniform(0.75, 1.25, int(counts.sum()))
    start = np.concatenate([[0], np.cumsum(counts + 1)[:-1]])
    group = np.repeat(np.arange(len(counts)), counts)
    total = np.bincount(group, weights=widths, minlength=len(counts))
    cum = np.cumsum(widths)
    base = np.concatenate([[0.0], cum])[np.concatenate([[0], np.cumsum(counts)[:-1]])]
    inner = (cum - base[group]) / total[group]
    pos = np.empty(int((counts + 1).sum()))
    pos[start] = 0.0
    idx = np.arange(len(widths)) - np.repeat(np.cumsum(counts) - counts, counts)
    pos[start[group] + idx + 1] = inner
    pos[start + counts] = 1.0
    return pos, start


def subdivide(blocks: Blocks, counts: np.ndarray, gen: np.random.Generator) -> Lots:
    """Split each block into ``counts[b]`` lots.

    Blocks with fewer than four lots have one row of lots over their whole width; others
    have two rows back to back with the same cuts (if the count is odd, one lot of the
    back row spans two cuts and keeps the middle vertex). Corner lots of ``chamfer``
    blocks get an ochavo, so every lot has 4 to 6 vertices.

    Returns
    -------
    Lots
    """
    two = counts >= MIN_TWO_ROWS
    k = np.where(two, (counts + 1) // 2, counts)
    pos, start = _cuts(k, gen)
    mid = blocks.width * np.where(two, gen.uniform(0.45, 0.55, len(blocks)), 1.0)
    merge_at = np.where(two & (counts % 2 == 1),
                        np.floor(gen.uniform(0, 1, len(blocks)) * (k - 1)), -9).astype(int)

    # row 0: k lots per block; row 1 (two-row blocks): k lots, or k-1 with one merged
    b0 = np.repeat(np.arange(len(blocks)), k)
    i0 = np.arange(len(b0)) - np.repeat(np.cumsum(k) - k, k)
    b1 = np.repeat(np.flatnonzero(two), k[two])
    i1 = np.arange(len(b1)) - np.repeat(np.cumsum(k[two]) - k[two], k[two])
    drop = i1 == merge_at[b1] + 1
    b1, i1 = b1[~drop], i1[~drop]
    merged = i1 == merge_at[b1]
    block = np.concatenate([b0, b1])
    row = np.concatenate([np.zeros(len(b0), np.int8), np.ones(len(b1), np.int8)])
    t0 = pos[start[block] + np.concatenate([i0, i1])]
    span = np.concatenate([np.ones(len(b0), int), np.where(merged, 2, 1)])
    t1 = pos[start[block] + np.concatenate([i0, i1]) + span]
    tx = np.where(span == 2, pos[np.minimum(start[block] + np.concatenate([i0, i1]) + 1,
                                            len(pos) - 1)], np.nan)
    v0 = np.where(row == 0, 0.0, mid[block])
    v1 = np.where(row == 0, mid[block], blocks.width[block])
    order = np.lexsort((t0, row, block))
    block, row, t0, t1, tx, v0, v1 = (a[order] for a in (block, row, t0, t1, tx, v0, v1))
    coords, ring = _vertices(blocks, block, row, t0, t1, tx, v0, v1)
    return Lots(block=block, row=row, t_mid=(t0 + t1) / 2, coords=coords, ring=ring)


def _vertices(blocks: Blocks, block: np.ndarray, row: np.ndarray, t0: np.ndarray,
              t1: np.ndarray, tx: np.ndarray, v0: np.ndarray,
              v1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertex coordinates of each lot (ochavos at outer block corners)."""
    length = blocks.length[block]
    a, b = t0 * length, t1 * length
    front0 = row == 0
    ch = blocks.chamfer[block]
    c_a = ch & front0 & (t0 == 0.0)
    c_b = ch & front0 & (t1 == 1.0)
    c_c = ch & (row == 1) & (t1 == 1.0)
    c_d = ch & (row == 1) & (t0 == 0.0)
    c = np.minimum(CHAMFER, 0.25 * np.minimum(b - a, v1 - v0))
    n = len(block)
    slots = np.full((n, 9, 2), np.nan)
    mask = np.zeros((n, 9), bool)
    slots[:, 0] = np.column_stack([a, np.where(c_a, v0 + c, v0)])
    slots[:, 1] = np.column_stack([a + c, v0])
    slots[:, 2] = np.column_stack([tx * length, v0])
    slots[:, 3] = np.column_stack([np.where(c_b, b - c, b), v0])
    slots[:, 4] = np.column_stack([b, v0 + c])
    slots[:, 5] = np.column_stack([b, np.where(c_c, v1 - c, v1)])
    slots[:, 6] = np.column_stack([b - c, v1])
    slots[:, 7] = np.column_stack([np.where(c_d, a + c, a), v1])
    slots[:, 8] = np.column_stack([a, v1 - c])
    mask[:, [0, 3, 5, 7]] = True
    mask[:, 1], mask[:, 2], mask[:, 4] = c_a, ~np.isnan(tx), c_b
    mask[:, 6], mask[:, 8] = c_c, c_d
    local = slots[mask]
    ring = np.repeat(np.arange(n), mask.sum(axis=1))
    bb = block[ring]
    world = (blocks.origin[bb] + local[:, :1] * blocks.u[bb] + local[:, 1:] * blocks.v[bb])
    return world, ring

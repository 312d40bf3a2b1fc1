"""Memory tuning for the big frames of a run: Arrow's allocator and giving freed pages back.

Nothing happens on import. The entry points (the filing flow's stages, the CLI's ``run`` / ``validate`` /
``figures``, the benchmarks) call :func:`tune` once before any data is read; the stages call
:func:`release_memory` between their big steps.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import os
from collections.abc import Callable
from typing import cast

import pyarrow as pa


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``; None elsewhere (looked up once, on first use)."""
    name = ctypes.util.find_library("c")
    try:
        trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:  # pragma: no cover - no C library to load
        return None
    return cast(Callable[[int], int], trim) if trim is not None else None


_frozen = False  # gc.freeze() done (tune)


def tune() -> None:
    """Arrow's jemalloc pool, returning freed pages at once, unless ``ARROW_DEFAULT_MEMORY_POOL`` names
    one. Arrow's default (mimalloc) keeps what the big frames of one step freed: measured at 1M complaints,
    peak RSS 2.5 GB with mimalloc, 2.3 GB with jemalloc, at the same speed. Call before the first frame;
    calling it again changes nothing.

    The first call also moves every object alive at that point (the imported modules: pandas, GX,
    Prefect, ~400,000 objects) into the collector's permanent generation (``gc.freeze``): the full
    collections the stages run to free GX's frame copies then skip them (0.26 s → a few ms each; the
    quality gate at 1M complaints: 16–18 s → 14 s). Only what is alive is frozen (a collection runs
    first), once per process, before any data is read."""
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # pragma: no cover - a pyarrow built without jemalloc
        return
    pa.jemalloc_set_decay_ms(0)
    pa.set_memory_pool(pool)


def release_memory(collect: bool = False) -> None:
    """Give memory freed by dropped frames back to the operating system.

    Arrow's allocator (mimalloc) and glibc's malloc both keep freed pages for reuse; after the
    multi-million-row frames of one step are dropped that is often more than a gigabyte the next step
    does not reuse, which shows up as peak RSS. Called between the big steps; costs milliseconds.
    ``collect``: run the cyclic garbage collector first (GX's objects hold its frame copies in cycles)."""
    if collect:
        gc.collect()
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)

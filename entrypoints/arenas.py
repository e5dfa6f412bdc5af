"""One glibc malloc arena per process (issue 10), for the CLI and the app factory alike."""

from __future__ import annotations

import ctypes
import os
import platform

# glibc malloc arenas (issue 10). By default each thread that allocates gets an arena of its
# own, and a non-main arena never hands back its free top (malloc_trim releases only the main
# arena's): the 19 MiB Argon2 block of a password hashing thread stayed resident for the
# life of the worker, after a single sign-up. With one arena, the hashing pool's trim after
# the last hash in flight gives it back. The threads here hardly compete for it: the event
# loop allocates small objects from Python's own pools, a hash makes one allocation.
# MALLOC_ARENA_MAX in the environment (glibc's own variable) overrides this.
MALLOC_ARENA_MAX = 1
_M_ARENA_MAX = -8  # mallopt's parameter (malloc.h)


def limit_malloc_arenas() -> bool:
    """MALLOC_ARENA_MAX arenas for this process and its workers (spawned: they inherit the
    variable), before any other thread allocates; True if set here. Idempotent: once set (here,
    by a parent such as `conduit serve`, or by the operator) the variable is left as it is.
    Not glibc (musl, macOS): nothing to do."""
    if "MALLOC_ARENA_MAX" in os.environ or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    os.environ["MALLOC_ARENA_MAX"] = str(MALLOC_ARENA_MAX)
    return bool(mallopt(_M_ARENA_MAX, MALLOC_ARENA_MAX))

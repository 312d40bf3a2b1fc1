"""Run ``complaints ARGS`` but pause it while the local store copies the bag into ``.incoming/``.

Usage: ``python pause_archive.py MARKER GO -- ARGS...``. After the first file of the bag lands in the
store's ``.incoming/`` directory, the process writes its pid to MARKER and waits until the file GO
exists (or until it is killed). Nothing is replaced: the real pipeline and store run; this only
holds the process at a known point of the commit so a test can kill it there, or start a second run
of the same period while it holds the run lock.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

marker, go = Path(sys.argv[1]), Path(sys.argv[2])
_copyfile = shutil.copyfile


def copyfile(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
    out = _copyfile(src, dst, *args, **kwargs)
    if ".incoming" in Path(dst).parts and not marker.exists():
        marker.write_text(str(os.getpid()), encoding="utf-8")
        while not go.exists():
            time.sleep(0.05)
    return out


shutil.copyfile = copyfile

if __name__ == "__main__":
    from cli import main

    sys.argv = ["complaints", *sys.argv[sys.argv.index("--") + 1:]]
    main()

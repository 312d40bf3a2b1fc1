"""LibreOffice (headless) and poppler helpers for the render tests and the preview script."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

FONTS_CONF = Path(__file__).with_name("fonts.conf")


def have_tools() -> bool:
    return bool(shutil.which("soffice") and shutil.which("pdftoppm"))


def docx_to_pdf(docx: Path, outdir: Path, profile: Path) -> Path:
    """Convert with a private LibreOffice profile (never the user's), fonts mapped by ``fonts.conf``."""
    env = dict(os.environ, FONTCONFIG_FILE=str(FONTS_CONF))
    cmd = [
        "soffice",
        f"-env:UserInstallation=file://{profile}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(outdir),
        str(docx),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    pdf = outdir / (docx.stem + ".pdf")
    if proc.returncode != 0 or not pdf.exists():
        raise RuntimeError(f"soffice failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    return pdf


def pdf_to_pngs(
    pdf: Path, prefix: Path, first: int = 1, last: int | None = None, dpi: int = 80
) -> list[Path]:
    cmd = ["pdftoppm", "-r", str(dpi), "-png", "-f", str(first)]
    if last is not None:
        cmd += ["-l", str(last)]
    subprocess.run([*cmd, str(pdf), str(prefix)], check=True, capture_output=True, timeout=120)
    return sorted(prefix.parent.glob(prefix.name + "-*.png"))


def pdf_pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))

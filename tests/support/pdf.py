"""Reading certificates as a person would: the text of the page, and what its QR code says."""
from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is missing (Debian package {package}): run `make test`, which installs it "
                    "through devtools/system-packages.sh")
    return path


def page_png(pdf: bytes, tmp_path: Path, dpi: int) -> Path:
    (tmp_path / "certificate.pdf").write_bytes(pdf)
    subprocess.run([tool("pdftoppm", "poppler-utils"), "-png", "-r", str(dpi), "-singlefile", "-f", "1", "-l", "1",
                    str(tmp_path / "certificate.pdf"), str(tmp_path / "page")], check=True)
    return tmp_path / "page.png"


def qr_text(pdf: bytes, tmp_path: Path, dpi: int = 150) -> str:
    png = page_png(pdf, tmp_path, dpi)
    decoded = subprocess.run([tool("zbarimg", "zbar-tools"), "--quiet", "--raw", str(png)],
                             capture_output=True, text=True, check=True)
    return decoded.stdout.strip()

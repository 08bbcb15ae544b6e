#!/usr/bin/env python3
"""Put the PDF font under var/fonts/: the Simplified Chinese faces of Noto Sans CJK,
extracted from Debian's fonts-noto-cjk collection (.ttc). Run by `make install`.

Why extract instead of pointing @font-face at the .ttc: a .ttc holds ten faces (JP, KR, SC,
TC, HK, mono); WeasyPrint hands the whole file to fontconfig, which then picks the JP face
for Chinese text (different glyph forms). One standalone SC face per weight avoids that.
Why not ship a font in the repo: a full face is ~16 MB, and a subset is unsafe because
bills print arbitrary customer names.

Idempotent and fast when done: a face is rewritten only when missing or older than its
source. A missing source is a warning, not a failure (same policy as
install_system_packages.sh); render_pdf then refuses with a message naming this script.
Needs only fontTools (a WeasyPrint dependency, so it is in .venv).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
FONT_DIR = BASE_DIR / "var" / "fonts"
DEBIAN_DIR = Path("/usr/share/fonts/opentype/noto")
# Output file → (PostScript name of the face to extract, collection file name in Debian).
FACES = {
    "NotoSansCJKsc-Regular.otf": ("NotoSansCJKsc-Regular", "NotoSansCJK-Regular.ttc"),
    "NotoSansCJKsc-Bold.otf": ("NotoSansCJKsc-Bold", "NotoSansCJK-Bold.ttc"),
}


def find_source(collection: str, postscript_name: str) -> Path | None:
    """Debian's path first, then wherever fontconfig knows the face (other distributions)."""
    debian = DEBIAN_DIR / collection
    if debian.is_file():
        return debian
    try:
        found = subprocess.run(
            ["fc-list", f":postscriptname={postscript_name}", "file"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in found.splitlines():
        path = Path(line.strip().rstrip(":"))
        if path.is_file():
            return path
    return None


def extract_face(source: Path, postscript_name: str, target: Path) -> None:
    from fontTools.ttLib import TTCollection, TTFont

    if source.suffix.lower() in {".ttc", ".otc"}:
        collection = TTCollection(source, lazy=True)
        faces = [face for face in collection.fonts if face["name"].getDebugName(6) == postscript_name]
        if not faces:
            raise SystemExit(f"extract_cjk_fonts: {postscript_name} is not in {source}")
        face = faces[0]
    else:
        face = TTFont(source, lazy=True)
        if face["name"].getDebugName(6) != postscript_name:
            raise SystemExit(f"extract_cjk_fonts: {source} is not {postscript_name}")
    # Write next to the target and rename: a render running meanwhile never sees half a file.
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", suffix=target.suffix, delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        face.save(tmp_path)
        tmp_path.chmod(0o644)  # NamedTemporaryFile makes it 0600; workers may run as another user
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def main() -> int:
    FONT_DIR.mkdir(parents=True, exist_ok=True)
    for file_name, (postscript_name, collection) in FACES.items():
        target = FONT_DIR / file_name
        source = find_source(collection, postscript_name)
        if source is None:
            if not target.is_file():
                print(
                    f"WARNING: {postscript_name} not found (Debian package fonts-noto-cjk): "
                    "PDF bills and invoices cannot be rendered until it is installed.",
                    file=sys.stderr,
                )
            continue
        if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        print(f"Extracting {postscript_name} from {source} to {target.relative_to(BASE_DIR)}")
        extract_face(source, postscript_name, target)
    return 0


if __name__ == "__main__":
    sys.exit(main())

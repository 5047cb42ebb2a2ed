"""The CJK font for charts: Noto Sans CJK SC shipped by the PyPI package ``mplfonts``."""

from __future__ import annotations

import functools
from pathlib import Path

from matplotlib.font_manager import FontProperties

FONT_FILE = "NotoSansCJKsc-Regular.otf"


@functools.cache
def cjk_font_path() -> Path:
    """Path of ``mplfonts/fonts/NotoSansCJKsc-Regular.otf`` inside the installed package.

    :raises FileNotFoundError: if ``mplfonts`` is installed without that font file.
    """
    import mplfonts

    path = Path(mplfonts.__file__).resolve().parent / "fonts" / FONT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"CJK font missing: {path}")
    return path


def cjk_font(size: float | None = None) -> FontProperties:
    """A ``FontProperties`` for Chinese text (pass it as ``fontproperties=`` or ``prop=``).

    :param size: font size in points; ``None`` keeps matplotlib's default.
    """
    return FontProperties(fname=str(cjk_font_path()), size=size)

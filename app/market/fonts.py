"""The CJK font for charts: Noto Sans CJK SC shipped by the PyPI package ``mplfonts``.

Two ways to use it: :func:`cjk_font_family` registers the file with matplotlib's font manager
and returns a family name for ``rcParams["font.family"]`` (market charts); :func:`cjk_font`
returns ``FontProperties`` for one text element (scorecard charts). Both resolve to
:func:`cjk_font_path`, never to a system font.
"""

from __future__ import annotations

import functools
from pathlib import Path

from matplotlib import font_manager
from matplotlib.font_manager import FontProperties

FONT_FILE = "NotoSansCJKsc-Regular.otf"


@functools.cache
def cjk_font_path() -> Path:
    """Path of ``mplfonts/fonts/NotoSansCJKsc-Regular.otf`` inside the installed package.

    :raises FileNotFoundError: if ``mplfonts`` is installed without that font file.
    """
    import mplfonts  # lazily: only chart rendering needs the package's font folder

    path = Path(mplfonts.__file__).resolve().parent / "fonts" / FONT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"CJK font missing: {path}")
    return path


@functools.cache
def cjk_font_family() -> str:
    """Register the Noto CJK font with matplotlib once and return its family name.

    :returns: the family name (``"Noto Sans CJK SC"``) resolving to ``cjk_font_path()``.
    :raises FileNotFoundError: if ``mplfonts`` is installed without the font file.
    """
    path = cjk_font_path()
    manager = font_manager.fontManager
    manager.addfont(str(path))
    # A system copy of the same family (Debian's fonts-noto-cjk) scores the same, and
    # findfont takes the first of equals: put the mplfonts entries first.
    ours = [entry for entry in manager.ttflist if Path(entry.fname) == path]
    manager.ttflist[:] = ours + [entry for entry in manager.ttflist if Path(entry.fname) != path]
    manager._findfont_cached.cache_clear()  # addfont clears it the same way
    return FontProperties(fname=str(path)).get_name()


def cjk_font(size: float | None = None) -> FontProperties:
    """A ``FontProperties`` for Chinese text (pass it as ``fontproperties=`` or ``prop=``).

    :param size: font size in points; ``None`` keeps matplotlib's default.
    """
    return FontProperties(fname=str(cjk_font_path()), size=size)

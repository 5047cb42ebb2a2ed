"""The form base shared by every page: WTForms' built-in messages in Simplified Chinese."""

from __future__ import annotations

from wtforms.meta import DefaultMeta


class ChineseMeta:
    """Form ``Meta`` that shows WTForms' built-in messages in Simplified Chinese."""

    locales = ("zh",)

    def get_translations(self, form):
        """WTForms' bundled ``zh`` catalogue (Flask-WTF would fall back to English)."""
        return DefaultMeta.get_translations(self, form)

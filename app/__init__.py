"""Zhongtai 中台: the Flask application package.

The factory is :func:`app.factory.create_app` (``FLASK_APP=app.factory``). This file stays
empty on purpose: a render worker imports ``app.rendering`` alone, and Python runs a
package's ``__init__`` before any of its modules, so everything here would load in every
worker process too.
"""

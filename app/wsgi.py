"""WSGI entry point for gunicorn: ``gunicorn app.wsgi:application`` (see gunicorn.conf.py).

The config comes from the environment (``ZHONGTAI_ENV`` and the settings of config.py);
production settings are validated here, at import, so a bad configuration stops the
worker before it accepts a request.
"""

from app.factory import create_app

application = create_app()

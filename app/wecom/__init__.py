"""WeCom 企业微信 client layer: the server API client, token cache, media, callback crypto.

Depends only on ``app.core``. The connector (``app.connector``) builds the product's
push, pull and callbacks on it; ``app.wecom.fake`` is a fake WeCom server for tests and
the demo.
"""

"""The template renderer: Jinja2's sandbox under a render budget, in worker processes.

Layer 3, beside ``compliance``: it imports only ``app.core`` and Jinja2, so a render worker
(a fork of the pool's fork server) starts by importing these few modules and not the
application (views, models, charts). ``content`` and ``broadcasts`` call
``app.rendering.isolation``; ``sandbox`` parses and renders; ``worker`` runs in the workers.
"""

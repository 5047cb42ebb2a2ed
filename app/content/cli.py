"""CLI: ``flask compliance check FILE`` and ``flask content render FILE``."""

from flask.cli import AppGroup

compliance_cli = AppGroup("compliance", help="Compliance checks 合规检查.")
content_cli = AppGroup("content", help="Content templates 内容模板.")

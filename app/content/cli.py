"""CLI: ``flask compliance check FILE`` and ``flask content render FILE``."""

import json

import click
from flask.cli import AppGroup

from app.compliance import blocking, check_text
from app.content.rendering import render_as_scheduled, staff_by_username
from app.core.errors import DomainError
from app.core.unit_of_work import command_unit_of_work

compliance_cli = AppGroup("compliance", help="Compliance checks 合规检查.")
content_cli = AppGroup("content", help="Content templates 内容模板.")


PRODUCT_CHOICES = ("general", "fund", "wealth", "gold", "fx", "insurance", "deposit", "loan")


@compliance_cli.command("check")
@click.argument("file", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--product", type=click.Choice(PRODUCT_CHOICES), default=None,
              help="Product category; without it every forbidding rule applies.")
@click.pass_context
def compliance_check(ctx: click.Context, file: str, product: str | None) -> None:
    """Check FILE ('-' = stdin) and print the findings as a JSON array.

    Exit status: 0 no blocking finding, 1 at least one blocking finding, 2 unreadable input.
    """
    try:
        with click.open_file(file, "rb") as fh:
            text = fh.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc.strerror or exc
        click.echo(f"error: cannot read {file}: {reason}", err=True)
        ctx.exit(2)
    findings = check_text(text, product)
    rows = [f.to_dict() for f in findings]
    click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    ctx.exit(1 if blocking(findings) else 0)


@content_cli.command("render")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--date", "run_date", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Run date YYYY-MM-DD (Asia/Shanghai business date).")
@click.option("--staff", "username", default=None,
              help="Username of the receiving user; default a sample signature.")
@click.pass_context
@command_unit_of_work
def content_render(ctx: click.Context, file: str, run_date, username: str | None) -> None:
    """Render template FILE for --date as the scheduler would and print the text.

    Loads market data and charts for the date, renders in the sandbox; commits the loaded
    data only when the render succeeds.
    Exit status: 0 rendered, 1 no market data, 2 template error (incl. sandbox) or bad input.
    """
    try:
        with open(file, encoding="utf-8") as fh:
            body = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"错误：无法读取 {file}（{type(exc).__name__}）", err=True)
        ctx.exit(2)
    staff = staff_by_username(username) if username else None
    if username and staff is None:
        click.echo(f"错误：用户 {username} 不存在", err=True)
        ctx.exit(2)
    try:
        outcome = render_as_scheduled(body, run_date.date(), staff)
    except DomainError as error:
        click.echo(f"错误：{error.message}", err=True)
        ctx.exit(1)
    if outcome.error:
        click.echo(f"模板渲染失败：{outcome.error}", err=True)
        ctx.exit(2)
    click.echo(outcome.text, nl=not outcome.text.endswith("\n"))

"""The fake WeCom server's WSGI app, its routes and a loopback HTTP server in a thread."""

from __future__ import annotations

import json
import logging
import secrets
import threading

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from app.wecom.fake.base import Fail, FakeBase, FakeClock
from app.wecom.fake.contacts import ContactsMixin
from app.wecom.fake.messages import MessagesMixin
from app.wecom.fake.moments import MomentsMixin

logger = logging.getLogger(__name__)
EC = "externalcontact/"
#: path → (HTTP method, handler name, what the handler takes: body | args | files).
ROUTES: dict[str, tuple[str, str, str]] = {
    **{EC + name: ("POST", name, "body") for name in (
        "add_msg_template", "get_groupmsg_list_v2", "get_groupmsg_task",
        "get_groupmsg_send_result", "remind_groupmsg_send", "cancel_groupmsg_send",
        "add_moment_task", "get_moment_list", "get_moment_task", "get_moment_customer_list",
        "get_moment_send_result", "get_moment_comments", "get_user_behavior_data",
        "get_corp_tag_list", "mark_tag")},
    EC + "batch/get_by_user": ("POST", "batch_get_by_user", "body"),
    EC + "groupchat/statistic": ("POST", "groupchat_statistic", "body"),
    EC + "get_moment_task_result": ("GET", "get_moment_task_result", "args"),
    EC + "get_follow_user_list": ("GET", "get_follow_user_list", "args"),
    EC + "list": ("GET", "list", "args"),
    EC + "get": ("GET", "get", "args"),
    "media/upload": ("POST", "media_upload", "files"),
    "media/upload_attachment": ("POST", "media_upload_attachment", "files"),
    "media/uploadimg": ("POST", "media_uploadimg", "files"),
}


class FakeWeCom(ContactsMixin, MessagesMixin, MomentsMixin, FakeBase):
    """State and endpoints of the fake; a WSGI app (``__call__``) under ``/cgi-bin/``.

    :param token_ttl: ``expires_in`` of issued tokens, seconds of the fake clock.
    :param media_ttl: lifetime of media ids (WeCom: 3 days).
    :param dispatch_seconds: how long a new mass message answers 41063.
    :param job_polls: the poll of ``get_moment_task_result`` that reports status 3.
    """

    def __init__(self, *, corp_id: str = "wwfakecorp", secret: str = "fake-secret",
                 clock: FakeClock | None = None, token_ttl: int = 7200,
                 media_ttl: int = 3 * 86400, dispatch_seconds: float = 5,
                 job_polls: int = 3) -> None:
        super().__init__(corp_id=corp_id, secret=secret, clock=clock or FakeClock(),
                         token_ttl=token_ttl, media_ttl=media_ttl)
        self._init_contacts()
        self._init_messages(dispatch_seconds)
        self._init_moments(job_polls)
        self.base_url = ""
        self._server = None

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            answer = self.answer(request)
        finally:
            request.close()  # uploaded files are spooled temporary files
        if "errcode" in answer and answer["errcode"]:  # vary errmsg: never match on it
            answer["errmsg"] += f", hint: [{secrets.token_hex(6)}]"
        response = Response(json.dumps(answer, ensure_ascii=False),
                            content_type="application/json; charset=utf-8")
        return response(environ, start_response)

    def answer(self, request: Request) -> dict:
        """The JSON answer of one request (always HTTP 200, as WeCom does)."""
        path = request.path.removeprefix("/cgi-bin/")
        try:
            if path == "gettoken":
                return {"errcode": 0, "errmsg": "ok", **self.gettoken(request.args)}
            if path not in ROUTES:
                raise Fail(404, "invalid api path")
            method, name, takes = ROUTES[path]
            if request.method != method:
                raise Fail(40058, f"use {method}")
            self.check_token(request.method, path, request.args.get("access_token"))
            self.admit(method, path)
            try:
                result = self._dispatch(request, name, takes)
            finally:
                self.release(path)
            if path in self.holds:
                self.holds[path].wait(timeout=30)
            return {"errcode": 0, "errmsg": "ok", **result}
        except Fail as fail:
            return {"errcode": fail.code, "errmsg": fail.message}

    def _dispatch(self, request: Request, name: str, takes: str) -> dict:
        handler = getattr(self, name)
        if takes == "args":
            return handler(request.args.to_dict())
        if takes == "files":
            return handler(request.args.to_dict(), request.files)
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError as error:
            raise Fail(40058, "invalid json") from error
        if not isinstance(body, dict):
            raise Fail(40058, "invalid json")
        return handler(body)

    def stop(self) -> None:
        """Shut the HTTP server down (releases any held answers first)."""
        for event in self.holds.values():
            event.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class _QuietHandler(WSGIRequestHandler):
    """No request log lines: they would carry the access token in the query string."""

    def log_request(self, *args, **kwargs) -> None:
        return None


def start_fake_wecom(fake: FakeWeCom | None = None, port: int = 0) -> FakeWeCom:
    """Serve ``fake`` (a new one by default) on ``127.0.0.1:port`` (0 = any free port).

    :returns: the fake with ``base_url`` set (``http://127.0.0.1:<port>/cgi-bin/``); call
        ``stop()`` when done.
    """
    fake = fake or FakeWeCom()
    server = make_server("127.0.0.1", port, fake, threaded=True, request_handler=_QuietHandler)
    fake._server = server
    fake.base_url = f"http://127.0.0.1:{server.server_port}/cgi-bin/"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     name="fake-wecom", daemon=True).start()
    logger.info("fake WeCom serving at %s", fake.base_url)
    return fake

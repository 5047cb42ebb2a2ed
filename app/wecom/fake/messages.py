"""Fake mass messages 群发 (externalcontact/*groupmsg*, add_msg_template): §2."""

from __future__ import annotations

import secrets

from app.wecom.fake.base import Fail

ATTACHMENT_TYPES = {"image", "link", "miniprogram", "video", "file"}
DAY = 86400
#: add_msg_template: most ``external_userid`` in one call (§2.1); more → 40058.
EXTERNAL_USERIDS_MAX = 10_000


class MessagesMixin:
    """Mass-message tasks that staff confirm later (``staff_sends``) and customers receive."""

    def _init_messages(self, dispatch_seconds: float) -> None:
        self.dispatch_seconds = dispatch_seconds
        self.msgs: dict[str, dict] = {}

    # -- simulated staff ------------------------------------------------------------------
    def staff_sends(self, msgid: str, at: float | None = None,
                    failed: dict[str, int] | None = None) -> None:
        """The sender confirms ``msgid`` in the WeCom client at ``at`` (default: now).

        :param failed: external_userid → status 2 (not a friend) or 3 (got another one).
        """
        with self.lock:
            msg = self.msgs[msgid]
            if msg["cancelled"]:
                raise ValueError("cancelled mass message cannot be sent")
            at = int(at if at is not None else self.clock())
            msg["task"].update(status=2, send_time=at)
            for external_userid, row in msg["sends"].items():
                status = (failed or {}).get(external_userid, 1)
                row.update(status=status, send_time=at if status == 1 else None)

    # -- endpoints ------------------------------------------------------------------------
    def add_msg_template(self, body: dict) -> dict:
        text = (body.get("text") or {}).get("content", "")
        attachments = body.get("attachments") or []
        if len(text.encode()) > 4000:
            raise Fail(40058, "invalid text size")
        if len(attachments) > 9:
            raise Fail(41064, "invalid attachments size")
        if not text and not attachments:
            raise Fail(41088, "text and attachments empty")
        for item in attachments:
            kind = item.get("msgtype")
            if kind not in ATTACHMENT_TYPES or kind not in item:
                raise Fail(41065, "invalid attachments msgtype")
            if kind == "image" and item["image"].get("media_id"):
                self.check_media(item["image"]["media_id"], "upload")
        chat_type = body.get("chat_type") or "single"
        sender, wanted = body.get("sender"), body.get("external_userid")
        if chat_type != "single" or not sender:
            raise Fail(40058, "this fake supports chat_type single with a sender")
        if wanted is not None and len(wanted) > EXTERNAL_USERIDS_MAX:
            raise Fail(40058, f"external_userid exceeds {EXTERNAL_USERIDS_MAX}")
        if sender not in self.staff:
            raise Fail(40003, "invalid userid")
        own = {c["external_userid"]: None for c in self.staff[sender]}  # ordered, O(1) lookup
        targets = list(own) if wanted is None else [e for e in wanted if e in own]
        fail_list = [] if wanted is None else [e for e in wanted if e not in own]
        msgid = f"msg{secrets.token_hex(12)}"
        with self.lock:
            self.msgs[msgid] = {
                "msgid": msgid, "sender": sender, "text": text, "attachments": attachments,
                "create_time": int(self.clock()), "cancelled": False, "reminds": [],
                "task": {"userid": sender, "status": 0, "send_time": None},
                "sends": {e: {"status": 0, "send_time": None} for e in targets},
            }
        return {"fail_list": fail_list, "msgid": msgid}

    def _dispatched(self, body: dict) -> dict:
        msg = self.msgs.get(body.get("msgid") or "")
        if msg is None:
            raise Fail(40058, "invalid msgid")
        if self.clock() < msg["create_time"] + self.dispatch_seconds:
            raise Fail(41063, "mass message still being dispatched")
        return msg

    def get_groupmsg_task(self, body: dict) -> dict:
        msg = self._dispatched(body)
        row = {"userid": msg["sender"], "status": msg["task"]["status"]}
        if msg["task"]["send_time"] is not None:
            row["send_time"] = msg["task"]["send_time"]
        items, cursor = self.page([row], body, default=500, maximum=1000)
        return {"next_cursor": cursor, "task_list": items}

    def get_groupmsg_send_result(self, body: dict) -> dict:
        msg = self._dispatched(body)
        if body.get("userid") != msg["sender"]:
            raise Fail(40003, "invalid userid")
        rows = []
        for external_userid, state in sorted(msg["sends"].items()):
            row = {"external_userid": external_userid, "userid": msg["sender"],
                   "status": state["status"]}
            if state["send_time"] is not None:
                row["send_time"] = state["send_time"]
            rows.append(row)
        items, cursor = self.page(rows, body, default=500, maximum=1000)
        return {"next_cursor": cursor, "send_list": items}

    def get_groupmsg_list_v2(self, body: dict) -> dict:
        start, end = body.get("start_time"), body.get("end_time")
        if not body.get("chat_type") or start is None or end is None:
            raise Fail(40058, "chat_type, start_time and end_time are required")
        if end - start > 31 * DAY or end < start:
            raise Fail(40058, "time range exceeds one month")
        rows = [{"msgid": m["msgid"], "create_time": m["create_time"], "create_type": 0,
                 "text": {"content": m["text"]}, "attachments": m["attachments"]}
                for m in self.msgs.values() if start <= m["create_time"] <= end]
        items, cursor = self.page(rows, body, default=50, maximum=100)
        return {"next_cursor": cursor, "group_msg_list": items}

    def remind_groupmsg_send(self, body: dict) -> dict:
        msg = self.msgs.get(body.get("msgid") or "")
        if msg is None:
            raise Fail(40058, "invalid msgid")
        if msg["cancelled"]:
            raise Fail(41093, "mass message task cancelled")
        now = self.clock()
        with self.lock:
            recent = [t for t in msg["reminds"] if now - t < DAY]
            if len(recent) >= 3:
                raise Fail(41094, "remind frequency exceeded")
            msg["reminds"] = [*recent, now]
        return {}

    def cancel_groupmsg_send(self, body: dict) -> dict:
        msg = self.msgs.get(body.get("msgid") or "")
        if msg is None:
            raise Fail(40058, "invalid msgid")
        msg["cancelled"] = True
        return {}

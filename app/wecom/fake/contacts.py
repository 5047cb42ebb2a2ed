"""Fake customers, tags, statistics and media uploads: §4, §5, §6."""

from __future__ import annotations

import datetime as dt
import secrets
from zoneinfo import ZoneInfo

from app.wecom.fake.base import Fail

CHINA = ZoneInfo("Asia/Shanghai")
DAY = 86400
BEHAVIOR_FIELDS = ("new_apply_cnt", "new_contact_cnt", "chat_cnt", "message_cnt",
                   "negative_feedback_cnt")


def china_day(unix: float) -> dt.date:
    """The Asia/Shanghai calendar date of a Unix time."""
    return dt.datetime.fromtimestamp(unix, CHINA).date()


def day_start(day: dt.date) -> int:
    """Unix seconds of 00:00 Asia/Shanghai on ``day``."""
    return int(dt.datetime.combine(day, dt.time(), CHINA).timestamp())


class ContactsMixin:
    """Staff (members) with customers, corp tags, behaviour data and uploaded media."""

    def _init_contacts(self) -> None:
        self.staff: dict[str, list[dict]] = {}  # userid → customers (follow info)
        self.behavior: dict[tuple[str, dt.date], dict] = {}
        self.tag_groups = [{"group_id": "g1", "group_name": "兴趣", "create_time": 0,
                            "order": 1, "tag": [{"id": f"t{i}", "name": name, "create_time": 0,
                                                 "order": i} for i, name in
                                                enumerate(("基金", "黄金", "外汇"), 1)]}]

    # -- seeding --------------------------------------------------------------------------
    def add_staff(self, userid: str, customers: int = 0, prefix: str | None = None) -> list[str]:
        """A member with ``customers`` new customers; returns their external_userids."""
        rows = self.staff.setdefault(userid, [])
        made = []
        for _ in range(customers):
            external_userid = f"wm{prefix or ''}{secrets.token_hex(14)}"
            rows.append({"external_userid": external_userid, "createtime": int(self.clock()),
                         "add_way": 1, "tags": []})
            made.append(external_userid)
        return made

    def set_behavior(self, userid: str, day: dt.date, **values) -> None:
        """Daily statistics of a member (fields of §4.1; reply ones only with chats)."""
        self.behavior[(userid, day)] = values

    # -- contacts -------------------------------------------------------------------------
    def get_follow_user_list(self, args: dict) -> dict:
        return {"follow_user": sorted(self.staff)}

    def list(self, args: dict) -> dict:
        rows = self.staff.get(args.get("userid") or "")
        if rows is None:
            raise Fail(60111, "userid not found")
        if not rows:
            raise Fail(84061, "not external contact")
        return {"external_userid": [c["external_userid"] for c in rows]}

    def _contact(self, external_userid: str) -> dict:
        return {"external_userid": external_userid, "name": "客户", "type": 1, "gender": 0}

    def get(self, args: dict) -> dict:
        external_userid = args.get("external_userid") or ""
        follows = [{"userid": u, "remark": "", "description": "", "createtime": c["createtime"],
                    "tags": [], "add_way": c["add_way"], "oper_userid": u}
                   for u, rows in sorted(self.staff.items()) for c in rows
                   if c["external_userid"] == external_userid]
        if not follows:
            raise Fail(40096, "invalid external_userid")
        items, cursor = self.page(follows, {"cursor": args.get("cursor")}, default=500,
                                  maximum=500)
        answer = {"external_contact": self._contact(external_userid), "follow_user": items}
        if cursor:
            answer["next_cursor"] = cursor
        return answer

    def batch_get_by_user(self, body: dict) -> dict:
        userids = body.get("userid_list") or []
        if not userids or len(userids) > 100:
            raise Fail(40058, "userid_list must hold 1 to 100 userids")
        rows = [{"external_contact": self._contact(c["external_userid"]),
                 "follow_info": {"userid": u, "createtime": c["createtime"], "tag_id": c["tags"],
                                 "add_way": c["add_way"], "oper_userid": u}}
                for u in userids for c in self.staff.get(u, [])]
        items, cursor = self.page(rows, body, default=50, maximum=100, over_max="max")
        return {"external_contact_list": items, "next_cursor": cursor}

    def get_corp_tag_list(self, body: dict) -> dict:
        return {"tag_group": self.tag_groups}

    def mark_tag(self, body: dict) -> dict:
        add, remove = body.get("add_tag") or [], body.get("remove_tag") or []
        if not add and not remove:
            raise Fail(40058, "add_tag and remove_tag both empty")
        known = {t["id"] for g in self.tag_groups for t in g["tag"]}
        if not set(add) | set(remove) <= known:
            raise Fail(40068, "invalid tagid")
        for contact in self.staff.get(body.get("userid") or "", []):
            if contact["external_userid"] == body.get("external_userid"):
                contact["tags"] = sorted((set(contact["tags"]) | set(add)) - set(remove))
                return {}
        raise Fail(84061, "not external contact")

    # -- statistics -----------------------------------------------------------------------
    def _window(self, start: int | None, end: int | None) -> tuple[dt.date, dt.date]:
        if start is None or end is None:
            raise Fail(40058, "start_time and end_time are required")
        first, last = china_day(start), china_day(end)
        today = china_day(self.clock())
        if last < first or (last - first).days >= 30 or (today - first).days > 180:
            raise Fail(40058, "time range exceeds 30 days or 180 days back")
        return first, last

    def get_user_behavior_data(self, body: dict) -> dict:
        userids, parties = body.get("userid") or [], body.get("partyid") or []
        if (not userids and not parties) or len(userids) > 100 or len(parties) > 100:
            raise Fail(40058, "userid/partyid: 1 to 100 items")
        first, last = self._window(body.get("start_time"), body.get("end_time"))
        days = []
        for offset in range((last - first).days + 1):
            day = first + dt.timedelta(days=offset)
            stats = [self.behavior.get((u, day), {}) for u in userids]
            row = {"stat_time": day_start(day),
                   **{f: sum(s.get(f, 0) for s in stats) for f in BEHAVIOR_FIELDS}}
            chatted = [s for s in stats if s.get("chat_cnt")]
            if chatted:
                row["reply_percentage"] = sum(s.get("reply_percentage", 0) for s in chatted
                                              ) / len(chatted)
                row["avg_reply_time"] = round(sum(s.get("avg_reply_time", 0) for s in chatted
                                                  ) / len(chatted))
            days.append(row)
        return {"behavior_data": days}

    def groupchat_statistic(self, body: dict) -> dict:
        begin = body.get("day_begin_time")
        self._window(begin, body.get("day_end_time") or begin)
        owners = ((body.get("owner_filter") or {}).get("userid_list")) or []
        if not owners and len(self.staff) > 1000:
            raise Fail(81017, "too many users: set owner_filter")
        if len(owners) > 100:
            raise Fail(40058, "owner_filter.userid_list exceeds 100")
        items = [{"owner": u, "data": {"new_chat_cnt": 0, "chat_total": 0, "chat_has_msg": 0,
                                       "new_member_cnt": 0, "member_total": 0,
                                       "member_has_msg": 0, "msg_total": 0}}
                 for u in owners or sorted(self.staff)]
        offset, limit = int(body.get("offset") or 0), min(int(body.get("limit") or 500), 1000)
        return {"total": len(items), "next_offset": min(offset + limit, len(items)),
                "items": items[offset:offset + limit]}

    # -- media ----------------------------------------------------------------------------
    def _upload(self, files, kind: str) -> dict:
        part = files.get("media")
        if part is None or not part.filename:
            raise Fail(41005, "media data missing")
        if len(part.read()) <= 5:
            raise Fail(40005, "invalid file size")
        return self.store_media(kind)

    def media_upload(self, args: dict, files) -> dict:
        if args.get("type") not in ("image", "voice", "video", "file"):
            raise Fail(40004, "invalid media type")
        return self._upload(files, "upload")

    def media_upload_attachment(self, args: dict, files) -> dict:
        if args.get("media_type") not in ("image", "video") or args.get(
                "attachment_type") not in ("1", "2"):
            raise Fail(40058, "invalid media_type or attachment_type")
        return self._upload(files, "attachment")

    def media_uploadimg(self, args: dict, files) -> dict:
        self._upload(files, "image_url")
        return {"url": f"https://wework.qpic.cn/fake/{secrets.token_hex(10)}/0"}

"""Fake Moments 朋友圈 (add_moment_task, jobs, moments, comments): §3."""

from __future__ import annotations

import secrets

from app.wecom.fake.base import Fail

DAY = 86400


class MomentsMixin:
    """Moments jobs that finish after a few polls; staff publish later, customers react."""

    def _init_moments(self, job_polls: int) -> None:
        self.job_polls = job_polls
        self.jobs: dict[str, dict] = {}
        self.moments: dict[str, dict] = {}

    # -- simulated staff and customers ----------------------------------------------------
    def staff_publishes(self, moment_id: str, userid: str) -> None:
        """``userid`` publishes the corp Moments post in the WeCom client."""
        self.moments[moment_id]["published"][userid] = 1

    def customer_reacts(self, moment_id: str, userid: str, external_userid: str,
                        kind: str = "like", at: float | None = None) -> None:
        """A customer likes (``like``) or comments (``comment``) on ``userid``'s copy."""
        entry = {"external_userid": external_userid, "create_time": int(at or self.clock())}
        self.moments[moment_id][kind + "s"].setdefault(userid, []).append(entry)

    def colleague_reacts(self, moment_id: str, userid: str, colleague: str) -> None:
        """A colleague (a member, ``userid`` field) likes the post: not a customer outcome."""
        entry = {"userid": colleague, "create_time": int(self.clock())}
        self.moments[moment_id]["likes"].setdefault(userid, []).append(entry)

    # -- endpoints ------------------------------------------------------------------------
    def add_moment_task(self, body: dict) -> dict:
        text = (body.get("text") or {}).get("content", "")
        attachments = body.get("attachments") or []
        if len(text) > 2000:
            raise Fail(40058, "invalid text size")
        if not text and not attachments:
            raise Fail(41089, "text and attachments both empty")
        kinds = {item.get("msgtype") for item in attachments}
        if len(kinds) > 1 or not kinds <= {"image", "video", "link"}:
            raise Fail(41065, "invalid attachments msgtype")
        if len(attachments) > (9 if kinds == {"image"} else 1):
            raise Fail(41064, "invalid attachments size")
        for item in attachments:
            if item.get("msgtype") == "image":
                self.check_media(item["image"].get("media_id", ""), "attachment")
        senders = (((body.get("visible_range") or {}).get("sender_list") or {})
                   .get("user_list") or list(self.staff))
        if len(senders) > 100_000:
            raise Fail(40058, "too many senders")
        jobid = secrets.token_hex(16)
        with self.lock:
            job = {"polls": 0, "senders": senders, "text": text,
                   "create_time": int(self.clock())}
            job["moment_id"] = self._create_moment(job)  # dispatched at once, reported later
            self.jobs[jobid] = job
        return {"jobid": jobid}

    def get_moment_task_result(self, args: dict) -> dict:
        job = self.jobs.get(args.get("jobid") or "")
        if job is None:
            raise Fail(40058, "invalid jobid")
        with self.lock:
            job["polls"] += 1
            if job["polls"] < self.job_polls:
                return {"status": 1 if job["polls"] == 1 else 2, "type": "add_moment_task",
                        "result": {}}
        invalid = [u for u in job["senders"] if u not in self.staff]
        return {"status": 3, "type": "add_moment_task", "result": {
            "errcode": 0, "errmsg": "ok", "moment_id": job["moment_id"],
            "invalid_sender_list": {"user_list": invalid, "department_list": []},
            "invalid_external_contact_list": {"tag_list": []}}}

    def _create_moment(self, job: dict) -> str:
        moment_id = f"mom{secrets.token_hex(12)}"
        senders = [u for u in job["senders"] if u in self.staff]
        self.moments[moment_id] = {
            "moment_id": moment_id, "create_time": job["create_time"], "text": job["text"],
            "published": dict.fromkeys(senders, 0), "likes": {}, "comments": {},
            "customers": {u: [c["external_userid"] for c in self.staff[u]] for u in senders}}
        return moment_id

    def _moment(self, body: dict) -> dict:
        moment = self.moments.get(body.get("moment_id") or "")
        if moment is None:
            raise Fail(41067, "moment_id is not a corp moment")
        return moment

    def get_moment_list(self, body: dict) -> dict:
        start, end = body.get("start_time"), body.get("end_time")
        if start is None or end is None or end - start > 30 * DAY or end < start:
            raise Fail(40058, "time range exceeds 30 days")
        rows = [{"moment_id": m["moment_id"], "create_time": m["create_time"],
                 "create_type": 0, "visible_type": 1, "text": {"content": m["text"]}}
                for m in self.moments.values() if start < m["create_time"] < end]
        items, cursor = self.page(rows, body, default=20, maximum=20)
        return {"next_cursor": cursor, "moment_list": items}

    def get_moment_task(self, body: dict) -> dict:
        moment = self._moment(body)
        rows = [{"userid": u, "publish_status": s} for u, s in moment["published"].items()]
        items, cursor = self.page(rows, body, default=500, maximum=1000)
        return {"next_cursor": cursor, "task_list": items}

    def get_moment_customer_list(self, body: dict) -> dict:
        moment, userid = self._moment(body), body.get("userid")
        if userid not in moment["customers"]:
            raise Fail(41061, "moment not posted by this userid")
        rows = [{"userid": userid, "external_userid": e} for e in moment["customers"][userid]]
        items, cursor = self.page(rows, body, default=500, maximum=1000)
        return {"next_cursor": cursor, "customer_list": items}

    def get_moment_send_result(self, body: dict) -> dict:
        moment, userid = self._moment(body), body.get("userid")
        if not moment["published"].get(userid):
            raise Fail(41062, "member has not posted yet")
        rows = [{"external_userid": e} for e in moment["customers"][userid]]
        items, cursor = self.page(rows, body, default=3000, maximum=5000)
        return {"next_cursor": cursor, "customer_list": items}

    def get_moment_comments(self, body: dict) -> dict:
        moment, userid = self._moment(body), body.get("userid")
        return {"comment_list": list(moment["comments"].get(userid, [])),
                "like_list": list(moment["likes"].get(userid, []))}

"""The WeCom endpoints Zhongtai uses, as functions over a :class:`WeComClient`.

Field names and limits: ../shared/wecom-api.md (section numbers in each docstring).
Every function raises the typed errors of ``app.wecom.errors`` (see ``WeComClient.call``).
"""

from __future__ import annotations

from collections.abc import Iterator

from app.wecom.client import WeComClient
from app.wecom.errors import NoRelationship

TEXT_MAX_BYTES = 4000  # add_msg_template text.content (§2.1)
#: add_msg_template ``external_userid``: at most this many customers per call (§2.1;
#: more → 40058). A longer list is sent as several mass messages (``app.connector.push``).
EXTERNAL_USERIDS_MAX = 10_000
MOMENT_TEXT_MAX_CHARS = 2000  # add_moment_task text.content (§3.1)


def add_msg_template(client: WeComClient, *, sender: str, text: str,
                     image_media_id: str | None = None,
                     external_userids: list[str] | None = None) -> dict:
    """Create a single-chat mass-message task 群发 for ``sender`` (§2.1).

    :param text: message text, at most 4000 UTF-8 bytes.
    :param image_media_id: a ``media/upload`` image id, attached when given.
    :param external_userids: customers to send to, at most ``EXTERNAL_USERIDS_MAX``;
        ``None`` = all of the sender's customers.
    :returns: ``{"msgid": str, "fail_list": [external_userid, ...]}``.
    :raises MediaExpired: the image id expired (re-upload and call again).
    :raises InvalidRequest: 40058, e.g. over ``EXTERNAL_USERIDS_MAX`` customers.
    """
    body: dict = {"chat_type": "single", "sender": sender, "text": {"content": text}}
    if image_media_id:
        body["attachments"] = [{"msgtype": "image", "image": {"media_id": image_media_id}}]
    if external_userids is not None:
        body["external_userid"] = external_userids
    data = client.call("POST", "externalcontact/add_msg_template", json=body)
    return {"msgid": data["msgid"], "fail_list": list(data.get("fail_list") or [])}


def get_groupmsg_task(client: WeComClient, msgid: str) -> Iterator[dict]:
    """Each member's send status of a mass message (§2.3): ``{userid, status 0|2, send_time?}``.

    :raises NotReadyYet: 41063 while WeCom is still dispatching it.
    """
    return client.paginate("externalcontact/get_groupmsg_task",
                           {"msgid": msgid, "limit": 1000}, "task_list")


def get_groupmsg_send_result(client: WeComClient, msgid: str, userid: str) -> Iterator[dict]:
    """Per-customer delivery of one member's send (§2.4).

    :returns: items ``{external_userid, userid, status 0 unsent | 1 sent | 2 not a friend |
        3 already received another, send_time?}``.
    """
    return client.paginate("externalcontact/get_groupmsg_send_result",
                           {"msgid": msgid, "userid": userid, "limit": 1000}, "send_list")


def remind_groupmsg_send(client: WeComClient, msgid: str) -> None:
    """Remind the members who have not sent ``msgid`` (≤ 3 per msgid per 24 h, §2.5).

    :raises RemindLimitReached: 41094; :raises TaskCancelled: 41093.
    """
    client.call("POST", "externalcontact/remind_groupmsg_send", json={"msgid": msgid})


def cancel_groupmsg_send(client: WeComClient, msgid: str) -> None:
    """Stop a mass message for the members who have not sent it yet (§2.5)."""
    client.call("POST", "externalcontact/cancel_groupmsg_send", json={"msgid": msgid})


def add_moment_task(client: WeComClient, *, senders: list[str], text: str,
                    image_media_ids: list[str] = ()) -> str:
    """Create a Moments 朋友圈 task for ``senders`` (§3.1); returns the ``jobid`` (valid 24 h).

    :param image_media_ids: ``media/upload_attachment`` ids (≤ 9).
    """
    body: dict = {"text": {"content": text},
                  "visible_range": {"sender_list": {"user_list": senders}}}
    if image_media_ids:
        body["attachments"] = [{"msgtype": "image", "image": {"media_id": media_id}}
                               for media_id in image_media_ids]
    return str(client.call("POST", "externalcontact/add_moment_task", json=body)["jobid"])


def get_moment_task_result(client: WeComClient, jobid: str) -> dict:
    """State of a Moments job (§3.2): ``{status 1|2|3, result?: {moment_id, …}}``.

    ``result`` is meaningful only at status 3; its own ``errcode`` is returned as is.
    """
    data = client.call("GET", "externalcontact/get_moment_task_result", params={"jobid": jobid})
    return {"status": int(data.get("status", 0)), "result": data.get("result") or {}}


def get_moment_task(client: WeComClient, moment_id: str) -> Iterator[dict]:
    """Who published a corp Moments post (§3.4): ``{userid, publish_status 0|1}``."""
    return client.paginate("externalcontact/get_moment_task",
                           {"moment_id": moment_id, "limit": 1000}, "task_list")


def get_moment_customer_list(client: WeComClient, moment_id: str,
                             userid: str) -> Iterator[dict]:
    """Customers who could see ``userid``'s copy (§3.5): ``{userid, external_userid}``."""
    return client.paginate("externalcontact/get_moment_customer_list",
                           {"moment_id": moment_id, "userid": userid, "limit": 1000},
                           "customer_list")


def get_moment_comments(client: WeComClient, moment_id: str, userid: str) -> dict:
    """Likes and comments on ``userid``'s copy (§3.6), customers only.

    :returns: ``{"likes": [{external_userid, create_time}], "comments": [...]}``; entries
        by colleagues (``userid`` instead of ``external_userid``) are left out.
    """
    data = client.call("POST", "externalcontact/get_moment_comments",
                       json={"moment_id": moment_id, "userid": userid})
    return {kind: [item for item in data.get(key) or [] if item.get("external_userid")]
            for kind, key in (("likes", "like_list"), ("comments", "comment_list"))}


def get_user_behavior_data(client: WeComClient, userid: str, start_time: int,
                           end_time: int) -> list[dict]:
    """One member's daily contact statistics (§4.1), days ``[start, end]`` (≤ 30, last 180).

    :param start_time: Unix seconds, floored by WeCom to 00:00 China time.
    :returns: ``behavior_data`` items; ``reply_percentage`` and ``avg_reply_time`` (minutes)
        are absent on days without chats.
    """
    data = client.call("POST", "externalcontact/get_user_behavior_data",
                       json={"userid": [userid], "start_time": start_time,
                             "end_time": end_time})
    return list(data.get("behavior_data") or [])


def get_follow_user_list(client: WeComClient) -> list[str]:
    """Members with customer contact enabled, within the app's visibility (§5.1)."""
    data = client.call("GET", "externalcontact/get_follow_user_list")
    return list(data.get("follow_user") or [])


def batch_get_by_user(client: WeComClient, userids: list[str]) -> Iterator[dict]:
    """Customers of up to 100 members, page by page (§5.4).

    :returns: items ``{external_contact: {external_userid, type, ...}, follow_info:
        {userid, createtime, add_way, ...}}``; callers keep only pseudonymous fields.
    """
    return client.paginate("externalcontact/batch/get_by_user",
                           {"userid_list": userids, "limit": 100}, "external_contact_list")


def list_external_contacts(client: WeComClient, userid: str) -> list[str]:
    """A member's customers' external_userids (§5.2); a member without any → ``[]``."""
    try:
        data = client.call("GET", "externalcontact/list", params={"userid": userid})
    except NoRelationship:
        return []
    return list(data.get("external_userid") or [])


def upload_media(client: WeComClient, content: bytes, filename: str, *,
                 attachment: bool = False) -> str:
    """Upload an image as temporary media (valid 3 days, §6); returns its ``media_id``.

    :param attachment: ``True`` for Moments (``media/upload_attachment``, attachment_type 1),
        ``False`` for mass messages (``media/upload``).
    """
    files = {"media": (filename, content, "image/png")}
    if attachment:
        data = client.call("POST", "media/upload_attachment", files=files,
                           params={"media_type": "image", "attachment_type": 1})
    else:
        data = client.call("POST", "media/upload", files=files, params={"type": "image"})
    return str(data["media_id"])

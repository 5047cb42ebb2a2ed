"""The password policy and generated initial passwords (pure functions, no database).

Policy (README "Security"): at least ``PASSWORD_MIN_LENGTH`` characters (default 10, at
most 128), from at least three of four classes (lowercase, uppercase, digits, symbols:
anything else, Chinese characters included), not containing the username, and none of a
few well-known weak fragments (``password``, ``123456``, ``qwerty``, the product name).
"""

from __future__ import annotations

import secrets

MAX_LENGTH = 128
REQUIRED_CLASSES = 3
#: Fragments that make a password easy to guess whatever its length (compared lowercased).
WEAK_FRAGMENTS = ("password", "passw0rd", "123456", "654321", "qwerty", "abc123", "zhongtai",
                  "111111", "888888")
#: Generated passwords avoid look-alikes (0/O, 1/l/I) so they can be read out by phone.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


def _classes(password: str) -> int:
    lower = any(c.islower() for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not (c.islower() or c.isupper() or c.isdigit()) for c in password)
    return lower + upper + digit + other


def password_problems(password: str, username: str, min_length: int) -> list[str]:
    """Every way ``password`` breaks the policy, as Chinese messages (empty list: it is fine).

    :param password: the proposed password, as typed.
    :param username: the account's login name; the password must not contain it.
    :param min_length: the configured minimum length (``PASSWORD_MIN_LENGTH``).
    :returns: messages in the order shown to the user.
    """
    problems = []
    if len(password) < min_length:
        problems.append(f"密码至少需要 {min_length} 位")
    if len(password) > MAX_LENGTH:
        problems.append(f"密码最多 {MAX_LENGTH} 位")
    if _classes(password) < REQUIRED_CLASSES:
        problems.append("密码需包含大写字母、小写字母、数字、符号中的至少三类")
    lowered = password.lower()
    if username and username.lower() in lowered:
        problems.append("密码不能包含用户名")
    if any(fragment in lowered for fragment in WEAK_FRAGMENTS):
        problems.append("密码不能包含常见弱口令（如 123456、password、qwerty）")
    return problems


def generate_password(min_length: int) -> str:
    """A random password that meets the policy, in groups of four joined by ``-``.

    :param min_length: the configured minimum; the result has at least 16 characters.
    :returns: e.g. ``"Kq7m-Xw2P-hT9d-Rz4b"`` (``secrets``-random, no look-alike characters).
    """
    groups = max(4, -(-(min_length + 1) // 5))  # 4 characters and a "-" per group
    while True:
        password = "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4))
                            for _ in range(groups))
        if not password_problems(password, "", min_length):
            return password

"""WeCom callback signatures and AES payloads (doc 90930; ../shared/wecom-api.md §7).

- ``msg_signature`` = lowercase hex SHA-1 of the sorted strings token, timestamp, nonce and
  the encrypted text, joined without separator.
- AES key = base64(EncodingAESKey + "="), 32 bytes; AES-256-CBC with IV = key[:16] and
  PKCS#7 padding to 32-byte blocks. Plaintext = 16 random bytes, 4-byte big-endian length,
  the message, then the receive id (the CorpID), which is checked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_BLOCK_BITS = 32 * 8


class CallbackRejected(Exception):
    """A callback failed the signature, the decryption or the receive-id check."""


class CallbackCrypto:
    """Sign, verify, encrypt and decrypt callback payloads of one corp app.

    :param token: the callback Token set in the WeCom admin console.
    :param encoding_aes_key: the 43-character EncodingAESKey.
    :param receive_id: the CorpID the payloads must name.
    :raises ValueError: if the key does not decode to 32 bytes.
    """

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        try:
            self.key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error as error:
            raise ValueError("EncodingAESKey is not base64") from error
        if len(self.key) != 32:
            raise ValueError("EncodingAESKey must decode to 32 bytes (43 characters)")
        self.token = token
        self.receive_id = receive_id

    def signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        """The ``msg_signature`` of a payload (lowercase hex SHA-1)."""
        joined = "".join(sorted([self.token, timestamp, nonce, encrypted]))
        return hashlib.sha1(joined.encode()).hexdigest()  # noqa: S324 - WeCom's scheme

    def verify(self, signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        """Check ``signature`` in constant time.

        :raises CallbackRejected: when it does not match.
        """
        if not hmac.compare_digest(self.signature(timestamp, nonce, encrypted).encode(),
                                   (signature or "").encode()):
            raise CallbackRejected("msg_signature does not match")

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, message: str) -> str:
        """Encrypt ``message`` as WeCom does (random prefix, length, receive id); base64 text."""
        body = message.encode()
        plain = os.urandom(16) + struct.pack(">I", len(body)) + body + self.receive_id.encode()
        padder = padding.PKCS7(_BLOCK_BITS).padder()
        encryptor = self._cipher().encryptor()
        padded = padder.update(plain) + padder.finalize()
        return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        """Decrypt a payload and check its receive id.

        :returns: the message text (XML for events, the echo string for URL checks).
        :raises CallbackRejected: bad base64, bad padding, bad length or another receive id.
        """
        try:
            data = base64.b64decode(encrypted, validate=True)
            decryptor = self._cipher().decryptor()
            padded = decryptor.update(data) + decryptor.finalize()
            unpadder = padding.PKCS7(_BLOCK_BITS).unpadder()
            plain = unpadder.update(padded) + unpadder.finalize()
        except (binascii.Error, ValueError) as error:
            raise CallbackRejected("payload does not decrypt") from error
        if len(plain) < 20:
            raise CallbackRejected("payload too short")
        (length,) = struct.unpack(">I", plain[16:20])
        message, receive_id = plain[20:20 + length], plain[20 + length:]
        if len(message) != length or receive_id.decode(errors="replace") != self.receive_id:
            raise CallbackRejected("payload names another receive id")
        try:
            return message.decode()
        except UnicodeDecodeError as error:
            raise CallbackRejected("payload is not UTF-8") from error

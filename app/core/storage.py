"""File storage for chart images and generated reports: a folder, or an S3-compatible bucket.

Web nodes keep no files of their own: whatever one process writes (the scheduler's
charts, a worker's report), any web node reads back by the same key. Keys are relative
POSIX paths such as ``charts/2025-04-25/gold.png``.

- ``STORAGE_BACKEND=file`` (default): files under ``STORAGE_DIR`` (default the instance
  folder), written atomically (temporary file, then rename). Several hosts need a shared
  mount (NFS) for this backend.
- ``STORAGE_BACKEND=s3``: objects in ``STORAGE_S3_BUCKET`` under ``STORAGE_S3_PREFIX``, at
  ``STORAGE_S3_ENDPOINT_URL`` (MinIO, Ceph RGW, a cloud object store; empty = AWS).
  Credentials come from boto3's usual chain (environment, ``~/.aws``, instance role),
  never from this app's config.
"""

from __future__ import annotations

import os
import posixpath
import shutil
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Flask, current_app

_EXTENSION = "storage"


class StoredFileMissing(LookupError):
    """No file is stored under that key."""


class Storage(Protocol):
    """What every backend offers; keys are relative POSIX paths (see :func:`check_key`)."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing what was there (readers see old or new)."""

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; :raises StoredFileMissing: nothing stored there."""

    def put_file(self, key: str, source: BinaryIO, content_type: str) -> None:
        """Like :meth:`put`, streaming from a binary file object (bounded memory)."""

    def get_file(self, key: str, target: BinaryIO) -> None:
        """Stream the file under ``key`` into ``target`` (bounded memory).

        :raises StoredFileMissing: nothing stored there.
        """

    def exists(self, key: str) -> bool:
        """Whether something is stored under ``key``."""

    def delete(self, key: str) -> None:
        """Remove ``key`` (no error if absent)."""

    def locate(self, key: str) -> str:
        """Where ``key`` lives, for logs and CLI output (a path or an ``s3://`` URL)."""


def check_key(key: str) -> str:
    """Validate a storage key.

    :returns: the key unchanged.
    :raises ValueError: empty, absolute, with ``..``/``.`` parts, a backslash or NUL.
    """
    parts = key.split("/")
    if (not key or key.startswith("/") or "\\" in key or "\x00" in key
            or any(p in ("", ".", "..") for p in parts) or posixpath.normpath(key) != key):
        raise ValueError(f"invalid storage key {key!r}")
    return key


class FileSystemStorage:
    """Files under one root folder."""

    def __init__(self, root: str | Path) -> None:
        """Use ``root`` (created on first write)."""
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write atomically: a temporary file in the same folder, then ``os.replace``."""
        self._write(key, lambda handle: handle.write(data))

    def put_file(self, key: str, source: BinaryIO, content_type: str) -> None:
        """Copy ``source`` in chunks, atomically like :meth:`put`."""
        self._write(key, lambda handle: shutil.copyfileobj(source, handle))

    def _write(self, key: str, write) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            write(handle)
        os.replace(temporary, path)

    def get(self, key: str) -> bytes:
        """Read the file; :raises StoredFileMissing: no such file."""
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError) as error:
            raise StoredFileMissing(key) from error

    def get_file(self, key: str, target: BinaryIO) -> None:
        """Copy the file into ``target`` in chunks; :raises StoredFileMissing: no such file."""
        try:
            with self._path(key).open("rb") as handle:
                shutil.copyfileobj(handle, target)
        except (FileNotFoundError, IsADirectoryError) as error:
            raise StoredFileMissing(key) from error

    def exists(self, key: str) -> bool:
        """Whether the file exists."""
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the file if present."""
        self._path(key).unlink(missing_ok=True)

    def locate(self, key: str) -> str:
        """The absolute file path."""
        return str(self._path(key))


class S3Storage:
    """Objects in an S3-compatible bucket, under an optional prefix."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None,
                 region: str = "us-east-1", client=None) -> None:
        """Bind to ``bucket``; ``client`` (a boto3 S3 client) is built when not given."""
        if client is None:
            import boto3  # noqa: PLC0415 - only deployments using S3 pay for the import

            client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region)
        self.client, self.bucket = client, bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """``PutObject`` (atomic for readers by S3's semantics)."""
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                               ContentType=content_type)

    def get(self, key: str) -> bytes:
        """``GetObject``; :raises StoredFileMissing: no such object."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.NoSuchKey as error:
            raise StoredFileMissing(key) from error
        return response["Body"].read()

    def put_file(self, key: str, source: BinaryIO, content_type: str) -> None:
        """boto3's managed upload (multipart for large files, chunks in memory)."""
        self.client.upload_fileobj(source, self.bucket, self._key(key),
                                   ExtraArgs={"ContentType": content_type})

    def get_file(self, key: str, target: BinaryIO) -> None:
        """boto3's managed download in chunks; :raises StoredFileMissing: no such object."""
        from botocore.exceptions import ClientError  # noqa: PLC0415

        try:
            self.client.download_fileobj(self.bucket, self._key(key), target)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise StoredFileMissing(key) from error
            raise

    def exists(self, key: str) -> bool:
        """``HeadObject`` answers 200."""
        from botocore.exceptions import ClientError  # noqa: PLC0415

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        """``DeleteObject`` (S3 answers 204 for a missing key too)."""
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def locate(self, key: str) -> str:
        """``s3://bucket/prefix/key``."""
        return f"s3://{self.bucket}/{self._key(key)}"


#: Storage areas: what each holds, and its folder (``file``) or key prefix (``s3``).
AREAS = ("charts", "reports", "imports")


def build_storage(config) -> dict[str, Storage]:
    """One backend per area (``charts``, ``reports``, ``imports``) as ``STORAGE_BACKEND`` says.

    ``file``: charts under ``CHART_OUTPUT_DIR``, reports and uploaded import files under
    ``STORAGE_DIR/reports`` and ``STORAGE_DIR/imports``; ``s3``: keys
    ``<STORAGE_S3_PREFIX>/charts/…``, ``…/reports/…`` and ``…/imports/…`` in one bucket.

    :param config: app config mapping, ``STORAGE_DIR`` and ``CHART_OUTPUT_DIR`` filled.
    :raises ValueError: unknown backend, or ``s3`` without ``STORAGE_S3_BUCKET``.
    """
    backend = config.get("STORAGE_BACKEND") or "file"
    if backend == "file":
        return {"charts": FileSystemStorage(config["CHART_OUTPUT_DIR"]),
                "reports": FileSystemStorage(Path(config["STORAGE_DIR"]) / "reports"),
                "imports": FileSystemStorage(Path(config["STORAGE_DIR"]) / "imports")}
    if backend == "s3":
        if not config.get("STORAGE_S3_BUCKET"):
            raise ValueError("STORAGE_BACKEND=s3 needs STORAGE_S3_BUCKET")
        first = S3Storage(config["STORAGE_S3_BUCKET"], "", config.get("STORAGE_S3_ENDPOINT_URL"),
                          config.get("STORAGE_S3_REGION") or "us-east-1")
        prefix = (config.get("STORAGE_S3_PREFIX") or "").strip("/")
        return {area: S3Storage(first.bucket, f"{prefix}/{area}" if prefix else area,
                                client=first.client) for area in AREAS}
    raise ValueError(f"STORAGE_BACKEND must be 'file' or 's3', not {backend!r}")


def init_app(app: Flask) -> None:
    """Attach the configured storage areas to ``app``.

    ``STORAGE_DIR`` defaults to the instance folder, ``CHART_OUTPUT_DIR`` to its ``charts``.

    :raises ValueError: see :func:`build_storage`.
    """
    app.config["STORAGE_DIR"] = app.config.get("STORAGE_DIR") or app.instance_path
    if not app.config.get("CHART_OUTPUT_DIR"):
        app.config["CHART_OUTPUT_DIR"] = str(Path(app.instance_path) / "charts")
    app.extensions[_EXTENSION] = build_storage(app.config)


def storage(area: str) -> Storage:
    """The current app's storage for ``area`` (one of :data:`AREAS`).

    :raises KeyError: unknown area.
    """
    return current_app.extensions[_EXTENSION][area]

"""Storage areas: the same contract on the filesystem and on an S3-compatible bucket (moto)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from app.core.storage import (
    FileSystemStorage,
    S3Storage,
    StoredFileMissing,
    build_storage,
    check_key,
)


@pytest.fixture
def s3_client(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="zhongtai-files")
        yield client


@pytest.fixture(params=["file", "s3"])
def store(request, tmp_path):
    if request.param == "file":
        return FileSystemStorage(tmp_path / "files")
    client = request.getfixturevalue("s3_client")
    return S3Storage("zhongtai-files", "prod/charts", client=client)


def test_put_get_exists_delete(store):
    assert not store.exists("2025-04-25/gold.png")
    with pytest.raises(StoredFileMissing):
        store.get("2025-04-25/gold.png")
    store.put("2025-04-25/gold.png", b"\x89PNG-1", "image/png")
    store.put("2025-04-25/gold.png", b"\x89PNG-2", "image/png")  # replaced
    assert store.exists("2025-04-25/gold.png")
    assert store.get("2025-04-25/gold.png") == b"\x89PNG-2"
    store.delete("2025-04-25/gold.png")
    store.delete("2025-04-25/gold.png")  # absent: no error
    assert not store.exists("2025-04-25/gold.png")


def test_files_stream_in_and_out(store, tmp_path):
    data = bytes(range(256)) * 40_000  # 10 MB: more than one chunk and one S3 part
    source = tmp_path / "upload.csv"
    source.write_bytes(data)
    with source.open("rb") as handle:
        store.put_file("uploads/a.csv", handle, "text/csv")
    copy = tmp_path / "copy.csv"
    with copy.open("wb") as handle:
        store.get_file("uploads/a.csv", handle)
    assert copy.read_bytes() == data == store.get("uploads/a.csv")
    with pytest.raises(StoredFileMissing), (tmp_path / "none").open("wb") as handle:
        store.get_file("uploads/none.csv", handle)


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../x.png", "a/../../x", "a//b", "a\\b",
                                 "./a", "a/."])
def test_keys_cannot_escape(store, key):
    with pytest.raises(ValueError, match="invalid storage key"):
        store.put(key, b"x", "text/plain")


def test_s3_objects_carry_prefix_and_content_type(s3_client):
    S3Storage("zhongtai-files", "/prod/reports/", client=s3_client).put(
        "scorecard/a.csv", b"a,b\r\n", "text/csv")
    head = s3_client.head_object(Bucket="zhongtai-files", Key="prod/reports/scorecard/a.csv")
    assert head["ContentType"] == "text/csv"


def test_file_writes_leave_no_temporary_files(tmp_path):
    store = FileSystemStorage(tmp_path)
    store.put("reports/r.csv", b"1", "text/csv")
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["r.csv"]
    assert store.locate("reports/r.csv") == str(tmp_path / "reports" / "r.csv")
    assert check_key("a/b.png") == "a/b.png"


def test_configured_s3_areas_share_one_bucket(s3_client):
    areas = build_storage({"STORAGE_BACKEND": "s3", "STORAGE_S3_BUCKET": "zhongtai-files",
                           "STORAGE_S3_PREFIX": "prod"})
    areas["charts"].put("d/gold.png", b"png", "image/png")
    areas["reports"].put("d/r.csv", b"csv", "text/csv")
    keys = {o["Key"] for o in s3_client.list_objects_v2(Bucket="zhongtai-files")["Contents"]}
    assert keys == {"prod/charts/d/gold.png", "prod/reports/d/r.csv"}
    assert areas["charts"].locate("d/gold.png") == "s3://zhongtai-files/prod/charts/d/gold.png"
    with pytest.raises(ValueError, match="STORAGE_S3_BUCKET"):
        build_storage({"STORAGE_BACKEND": "s3"})
    with pytest.raises(ValueError, match="STORAGE_BACKEND"):
        build_storage({"STORAGE_BACKEND": "ftp"})


def test_charts_render_into_s3_and_are_read_back_from_it(s3_client, make_app):
    """Web nodes keep no files: the chart the scheduler stored is read back from the bucket."""
    import datetime as dt

    from app.market.charts import chart_image, render_charts

    app = make_app(STORAGE_BACKEND="s3", STORAGE_S3_BUCKET="zhongtai-files",
                   STORAGE_S3_PREFIX="t")
    day = dt.date(2025, 4, 25)
    with app.app_context():
        results = render_charts(day)
        png, sha256 = chart_image(day, results[0].spec)
    assert results and all(r.path.startswith("s3://zhongtai-files/t/charts/") for r in results)
    stored = s3_client.get_object(Bucket="zhongtai-files",
                                  Key=results[0].path.removeprefix("s3://zhongtai-files/"))
    assert png == stored["Body"].read() and png.startswith(b"\x89PNG")
    assert stored["ContentType"] == "image/png" and len(sha256) == 64

"""The S3 store's own behaviour against moto's server on loopback: URLs, early errors, retries, breaker.

The store contract itself (layout, unchanged detection, odd names) runs on both
stores in test_store.py.
"""

from __future__ import annotations

import json
import socket
import uuid

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from pagescrub.tasks.record import build_record
from pagescrub.tasks.s3store import S3Store, parse_s3_url
from pagescrub.tasks.store import StoreConfigError, StoreOptions, StoreUnavailable, article_key, open_store

from .conftest import MotoServer
from .test_store import _article, _page


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://my-bucket", "my-bucket", ""),
        ("s3://my-bucket/", "my-bucket", ""),
        ("s3://my-bucket/news", "my-bucket", "news/"),
        ("S3://my-bucket//news///2024/", "my-bucket", "news/2024/"),
    ],
)
def test_s3_urls_are_normalized(url: str, bucket: str, prefix: str) -> None:
    assert parse_s3_url(url) == (bucket, prefix)


@pytest.mark.parametrize(
    "url", ["s3://", "s3://Bad_Bucket/x", "s3://ab/x", "s3://bucket/../other", "s3://bucket/a/./b", "s3://bucket/a\x00b", "s3://a..b/x"]
)
def test_s3_urls_that_could_mislead_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        parse_s3_url(url)


def test_keys_cannot_leave_the_prefix_even_through_private_helpers(s3_bucket: str, s3_options: StoreOptions) -> None:
    store = S3Store(s3_bucket, "news/", s3_options)
    for bad in ("../x", "/x", "a//b", "a/./b", "a\\b", "a\nb"):
        with pytest.raises(ValueError):
            store._put(bad, b"", content_type="text/plain")


def test_missing_bucket_fails_early_naming_it(moto_server: MotoServer, s3_options: StoreOptions) -> None:
    store = open_store("s3://no-such-bucket-here/news/", s3_options)
    with pytest.raises(StoreConfigError, match="bucket 'no-such-bucket-here' does not exist") as err:
        store.ensure()
    assert moto_server.url in err.value.reason


def test_unknown_access_key_gives_a_403_before_anything_is_written(moto_server: MotoServer, s3_bucket: str, s3_options: StoreOptions) -> None:
    from moto.core.authorization import enable_iam_authentication

    store = open_store(f"s3://{s3_bucket}/news/", s3_options)
    with enable_iam_authentication(), pytest.raises(StoreConfigError) as err:
        store.ensure()
    assert f"bucket {s3_bucket!r}" in err.value.reason and "403" in err.value.reason
    assert "check the credentials" in err.value.reason


def test_read_only_credentials_fail_the_write_probe(moto_server: MotoServer, s3_bucket: str, s3_options: StoreOptions) -> None:
    """HEAD bucket succeeds, the probe PUT is denied (AccessDenied): caught before any page."""
    from moto.core.authorization import enable_iam_authentication

    iam = boto3.client("iam", endpoint_url=moto_server.url, region_name="us-east-1")
    user = f"reader-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["s3:HeadBucket", "s3:ListBucket", "s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{s3_bucket}", f"arn:aws:s3:::{s3_bucket}/*"],
    }]}
    iam.put_user_policy(UserName=user, PolicyName="read-only", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    client = boto3.client(
        "s3", endpoint_url=moto_server.url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
    )
    store = S3Store(s3_bucket, "news/", s3_options, client=client)
    with enable_iam_authentication():
        store.ensure(writable=False)  # reading is allowed
        with pytest.raises(StoreConfigError, match="access denied"):
            store.ensure()
    assert moto_server.client().list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("AccessDenied", 403, r"access denied \(AccessDenied\)"),
        ("InvalidAccessKeyId", 403, "InvalidAccessKeyId"),
        ("SignatureDoesNotMatch", 403, "SignatureDoesNotMatch"),
        ("NoSuchBucket", 404, r"does not exist \(NoSuchBucket\)"),
    ],
)
def test_credential_and_bucket_errors_are_not_retried(code: str, status: int, expected: str) -> None:
    client = boto3.client("s3", endpoint_url="http://127.0.0.1:9", region_name="us-east-1")
    store = S3Store("my-bucket", "news/", StoreOptions(retries=3, backoff_base=5.0), client=client)
    with Stubber(client) as stub:
        stub.add_response("head_bucket", {}, {"Bucket": "my-bucket"})
        stub.add_client_error("put_object", service_error_code=code, http_status_code=status)
        with pytest.raises(StoreConfigError, match=expected) as err:
            store.ensure()  # a retry would sleep 5 s and need a second stubbed answer
        stub.assert_no_pending_responses()
    assert "'my-bucket'" in err.value.reason


def _inject(store: S3Store, operation: str, faults: list) -> list[str]:
    """Make the next requests of ``operation`` fail: an exception is raised, an int answered as that status."""
    seen: list[str] = []

    def before_send(request, **_: object):
        seen.append(request.method)
        if not faults:
            return None
        fault = faults.pop(0)
        if isinstance(fault, int):
            body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"

            class Raw:
                def stream(self, **_: object):
                    yield body

            return AWSResponse(request.url, fault, {"Content-Type": "application/xml"}, Raw())
        raise fault

    store.client.meta.events.register(f"before-send.s3.{operation}", before_send)
    return seen


def test_throttling_and_5xx_are_retried_and_the_object_is_written_once(s3_bucket: str, moto_server: MotoServer) -> None:
    store = open_store(f"s3://{s3_bucket}/news/", StoreOptions(endpoint_url=moto_server.url, max_attempts=3, retries=0))
    seen = _inject(store, "PutObject", [503, 429])
    rec = build_record(_article(), _page())
    assert store.put_article(rec).status == "written"
    assert len(seen) == 3  # two answered by the fault (botocore's own retries), the third reached moto
    assert store.get_article(rec["id"]) == rec


def test_connection_errors_past_botocore_are_retried_around_the_whole_request(s3_bucket: str, moto_server: MotoServer) -> None:
    store = open_store(f"s3://{s3_bucket}/news/", StoreOptions(endpoint_url=moto_server.url, max_attempts=2, retries=2, backoff_base=0.01))
    faults = [EndpointConnectionError(endpoint_url=moto_server.url) for _ in range(5)]
    seen = _inject(store, "PutObject", faults)
    rec = build_record(_article(), _page())
    assert store.put_article(rec).status == "written"
    assert len(seen) == 6 and faults == []  # 3 tries x 2 botocore attempts; the 6th got through


def test_a_store_that_stays_down_fails_fast_after_the_retries(s3_bucket: str, moto_server: MotoServer) -> None:
    store = open_store(f"s3://{s3_bucket}/news/", StoreOptions(endpoint_url=moto_server.url, max_attempts=2, retries=1, backoff_base=0.01))
    seen = _inject(store, "PutObject", [EndpointConnectionError(endpoint_url=moto_server.url) for _ in range(100)])
    rec = build_record(_article(), _page())
    with pytest.raises(StoreUnavailable, match="failed 2 times on PUT") as err:
        store.put_article(rec)
    assert "EndpointConnectionError" in err.value.reason
    tries = len(seen)
    assert tries == 4
    with pytest.raises(StoreUnavailable):
        store.put_article(build_record(_article(title="Other"), _page("other.html")))
    assert len(seen) == tries  # the second put did not wait out its own retries
    assert moto_server.client().list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0


def test_unchanged_detection_is_a_head_on_the_content_hash_metadata(s3_bucket: str, moto_server: MotoServer, s3_options: StoreOptions) -> None:
    store = open_store(f"s3://{s3_bucket}/news/", s3_options)
    rec = build_record(_article(), _page())
    store.put_article(rec)
    head = moto_server.client().head_object(Bucket=s3_bucket, Key="news/" + article_key(rec["id"]))
    assert head["Metadata"]["content-hash"] == rec["content_hash"]
    assert head["ContentType"] == "application/json"
    gets = _inject(store, "GetObject", [])
    heads = _inject(store, "HeadObject", [])
    assert store.put_article(build_record(_article(), _page())).status == "unchanged"
    assert (len(heads), len(gets)) == (1, 0)


def _closed_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_endpoint_at_start_is_reported_before_any_page(aws_env: dict) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    store = open_store("s3://some-bucket/x/", StoreOptions(endpoint_url=url, max_attempts=1, retries=1, backoff_base=0.01))
    with pytest.raises(StoreUnavailable, match="EndpointConnectionError") as err:
        store.ensure()
    assert url in err.value.reason


def test_manifest_spool_is_local_owned_and_swept_after_a_killed_run(
    s3_bucket: str, s3_options: StoreOptions, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 has no append: entries spool on local disk, in files named after their process, so the
    next run's ensure() removes what a killed run left; a failed run's discard() leaves nothing."""
    import tempfile

    from pagescrub.tasks import store as store_module

    from .test_store import _dead_pid

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    spool = tmp_path / "pagescrub-spool"
    store = open_store(f"s3://{s3_bucket}/spool/", s3_options)
    store.ensure()
    writer = store.manifest("run-1")
    writer.add({"input": "a", "status": "written"})
    (pending,) = list(spool.iterdir())
    assert pending.name.startswith(f"{__import__('os').getpid()}@") and pending.name.endswith(".pages.jsonl")
    writer.discard()
    assert list(spool.iterdir()) == []

    killed = spool / f"{_dead_pid()}@{store_module._HOST}-0123456789abcdef.pages.jsonl"
    killed.write_text('{"input": "b"}\n')
    live = spool / f"1@{store_module._HOST}-0123456789abcdef.pages.jsonl"  # pid 1 runs
    live.write_text("")
    store.ensure()
    assert sorted(p.name for p in spool.iterdir()) == [live.name]

    done = store.manifest("run-2")
    done.add({"input": "c", "status": "written"})
    where = done.close({"run_id": "run-2"})
    assert where == f"s3://{s3_bucket}/spool/runs/run-2.json"
    assert sorted(p.name for p in spool.iterdir()) == [live.name]

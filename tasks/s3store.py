"""The S3 store (AWS or any S3-compatible endpoint), through plain boto3.

Faults are sorted in three: a missing bucket, bad credentials or a denied
permission cannot be fixed by waiting, so they raise StoreConfigError at once
(``ensure`` finds them before any page is processed); throttling, 5xx and
connection errors are retried, first by botocore (standard mode) and then,
around the whole request, by us with exponential backoff and jitter, so an
endpoint that is down for a few seconds loses nothing; a store still down after
that raises StoreUnavailable, and every later request of the run fails at once
with the same reason instead of waiting out its own retries.
"""

from __future__ import annotations

import logging
import random
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError as BotoConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from .store import (
    ManifestWriter,
    StateConflict,
    Store,
    StoreConfigError,
    StoreOptions,
    StoreUnavailable,
    _check_key,
    run_key,
    safe_name,
    state_key,
    sweep_orphans,
)

__all__ = ["S3Store", "parse_s3_url"]

T = TypeVar("T")

logger = logging.getLogger(__name__)

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "SlowDown", "RequestLimitExceeded",
    "TooManyRequestsException", "RequestThrottled", "RequestTimeout", "RequestTimeoutException",
    "InternalError", "ServiceUnavailable", "ServiceUnavailableException", "BadDigest",
})
_ACCESS_CODES = frozenset({
    "403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
    "AccountProblem", "InvalidToken", "ExpiredToken", "InvalidSecurity", "AuthorizationHeaderMalformed",
})
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` to ``("bucket", "some/prefix/")``; refuses what could escape or mislead."""
    if url[:5].lower() != "s3://":
        raise ValueError(f"not an s3:// URL: {url!r}")
    bucket, _, rest = url[5:].partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ValueError(f"invalid S3 bucket name {bucket!r} in {url!r}")
    parts = [p for p in rest.split("/") if p]
    if any(p in (".", "..") or any(ord(c) < 32 for c in p) for p in parts):
        raise ValueError(f"invalid S3 prefix in {url!r}: no '.', '..' or control characters")
    return bucket, "".join(f"{p}/" for p in parts)



def spool_folder() -> Path:
    """The local folder where S3 runs spool their manifests (S3 has no append)."""
    folder = Path(tempfile.gettempdir()) / "pagescrub-spool"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder

class S3Store(Store):
    """An ``s3://bucket/prefix/`` store. One boto3 client, shared by the writer's threads (clients are thread-safe)."""

    def __init__(self, bucket: str, prefix: str = "", options: StoreOptions | None = None, *, client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.options = options or StoreOptions()
        self.url = f"s3://{bucket}/{prefix}"
        self.client = client if client is not None else _client(self.options)
        self._down: str | None = None
        self._down_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, options: StoreOptions | None = None) -> S3Store:
        bucket, prefix = parse_s3_url(url)
        return cls(bucket, prefix, options)

    def __repr__(self) -> str:
        return f"S3Store({self.url!r}, endpoint={self.endpoint!r})"

    @property
    def endpoint(self) -> str:
        return str(self.client.meta.endpoint_url)

    # -- checks before the run ---------------------------------------------------------------

    def ensure(self, *, writable: bool = True) -> None:
        """HEAD the bucket, then prove we may write (put and delete a probe) or at least list.

        Raises StoreConfigError naming the bucket for 403/NoSuchBucket/bad keys,
        StoreUnavailable if the endpoint cannot be reached.
        """
        try:
            self._call("HEAD bucket", lambda: self.client.head_bucket(Bucket=self.bucket), missing="bucket")
            if writable:
                probe = self._key(f"state/.probe-{uuid.uuid4().hex}")
                self._call("probe PUT", lambda: self.client.put_object(Bucket=self.bucket, Key=probe, Body=b""), missing="bucket")
                self._call("probe DELETE", lambda: self.client.delete_object(Bucket=self.bucket, Key=probe), missing="bucket")
            else:
                self._call(
                    "LIST",
                    lambda: self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1),
                    missing="bucket",
                )
        except StoreUnavailable as exc:
            raise StoreUnavailable(f"cannot reach bucket {self.bucket!r}: {exc.reason}") from None
        sweep_orphans(spool_folder())  # manifest spools of killed runs on this machine

    # -- primitives -------------------------------------------------------------------------

    def _key(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _get(self, key: str) -> bytes | None:
        full = self._key(key)

        def get() -> bytes:
            # The body is read inside the retried call: a connection reset mid-body is retried too.
            return self.client.get_object(Bucket=self.bucket, Key=full)["Body"].read()

        return self._call(f"GET {full}", get, missing="key")

    def _stored_hash(self, key: str) -> str | None:
        """A HEAD suffices: the hash is also the object's ``x-amz-meta-content-hash``."""
        full = self._key(key)
        head = self._call(f"HEAD {full}", lambda: self.client.head_object(Bucket=self.bucket, Key=full), missing="key")
        if head is None:
            return None
        value = head.get("Metadata", {}).get("content-hash")
        return value or super()._stored_hash(key)

    def _put(self, key: str, data: bytes, *, content_type: str, metadata: dict[str, str] | None = None) -> None:
        full = self._key(key)
        self._call(
            f"PUT {full}",
            lambda: self.client.put_object(
                Bucket=self.bucket, Key=full, Body=data, ContentType=content_type, Metadata=metadata or {}
            ),
        )

    def read_state(self, name: str) -> tuple[bytes | None, str | None]:
        """The object and its ETag, from one GET: the ETag is the version a conditional PUT names."""
        full = self._key(state_key(name))

        def get() -> tuple[bytes, str]:
            obj = self.client.get_object(Bucket=self.bucket, Key=full)
            return obj["Body"].read(), obj["ETag"]

        got = self._call(f"GET {full}", get, missing="key")
        return got if got is not None else (None, None)

    def put_state_if(self, name: str, data: bytes, version: str | None) -> str:
        """A conditional PUT: ``If-Match: <ETag>``, or ``If-None-Match: *`` for an object not there yet.

        AWS S3 has honoured both since 2024 (so do MinIO and moto). An endpoint that
        answers 501 Not Implemented gets a plain PUT, with a warning: the last writer
        wins there, as it did everywhere before.
        """
        key = state_key(name)
        full = self._key(key)
        condition = {"IfMatch": version} if version else {"IfNoneMatch": "*"}

        def put(**extra: str) -> None:
            try:
                self.client.put_object(
                    Bucket=self.bucket, Key=full, Body=data, ContentType="application/octet-stream", **extra
                )
            except ClientError as exc:
                code, status = _code(exc)
                if extra and (code in _CONFLICT_CODES or status in (409, 412)):
                    raise StateConflict(f"{full} changed since it was read") from None
                if extra and (code == "NotImplemented" or status == 501):
                    raise _ConditionsUnsupported from None
                raise

        try:
            self._call(f"PUT {full}", lambda: put(**condition))
        except _ConditionsUnsupported:
            logger.warning("%s does not support conditional writes: %s written unconditionally", self.endpoint, full)
            self._call(f"PUT {full}", put)
        return key

    def _delete(self, key: str) -> None:
        full = self._key(key)
        self._call(f"DELETE {full}", lambda: self.client.delete_object(Bucket=self.bucket, Key=full), missing="key")

    def _keys(self, folder: str) -> Iterator[str]:
        """Listed page by page (1000 keys a request), never all at once."""
        start = self._key(folder) + "/"
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": start}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call(f"LIST {start}", lambda kw=kwargs: self.client.list_objects_v2(**kw), missing="bucket")
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix):]
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")

    def manifest(self, run_id: str) -> ManifestWriter:
        """Spooled in a local temporary folder (S3 has no append), uploaded whole at the end.

        If the upload fails the manifest stays on local disk and its path is
        returned, so a run against a store that went down still says what it did.
        The spool's files are named after their process (``pid@host``), so
        ``ensure`` can sweep those of a killed run.
        """
        spool = spool_folder()
        key = run_key(run_id)

        def publish(path: Path) -> str:
            full = self._key(key)

            def put() -> None:
                with open(path, "rb") as body:  # streamed from disk, reopened on each retry
                    self.client.put_object(Bucket=self.bucket, Key=full, Body=body, ContentType="application/json")

            try:
                self._call(f"PUT {full}", put, despite_down=True)  # one request: worth trying even so
            except (StoreUnavailable, StoreConfigError):
                kept = Path(tempfile.gettempdir()) / "pagescrub-unsent-manifests"
                kept.mkdir(parents=True, exist_ok=True)
                target = kept / f"{safe_name(self.bucket)}-{path.name}"
                path.replace(target)
                return str(target)
            path.unlink()
            return f"s3://{self.bucket}/{full}"

        return ManifestWriter(spool, f"{safe_name(run_id)}-{uuid.uuid4().hex[:8]}", publish, spool=spool)

    # -- retries and classification ---------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], T], *, missing: str | None = None, despite_down: bool = False) -> T | None:  # type: ignore[return]
        """One request, retried on transient faults; 404 gives None when ``missing == "key"``."""
        if self._down and not despite_down:
            raise StoreUnavailable(self._down)
        opts = self.options
        last: Exception | None = None
        for attempt in range(opts.retries + 1):
            if attempt:
                time.sleep(_backoff(attempt, opts.backoff_base, opts.backoff_max))
            try:
                return fn()
            except ClientError as exc:
                code, status = _code(exc)
                if code in _MISSING_CODES or code == "NoSuchBucket" or status == 404:
                    if missing == "key" and code != "NoSuchBucket":
                        return None
                    raise StoreConfigError(
                        f"bucket {self.bucket!r} does not exist (NoSuchBucket) at {self.endpoint}"
                    ) from None
                if code in _ACCESS_CODES or status == 403:
                    raise self._config_error(code, exc) from None
                if not (code in _TRANSIENT_CODES or status >= 500 or status == 429):
                    raise StoreUnavailable(f"{what}: {code}: {_message(exc)}") from None
                last = exc
            except (NoCredentialsError, PartialCredentialsError) as exc:
                raise StoreConfigError(
                    f"no usable AWS credentials for bucket {self.bucket!r} ({exc}): set AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --s3-profile"
                ) from None
            except (BotoConnectionError, HTTPClientError) as exc:
                last = exc
            except BotoCoreError as exc:  # anything else from botocore is not worth retrying
                raise StoreUnavailable(f"{what}: {type(exc).__name__}: {exc}") from None
        reason = f"{self.endpoint} failed {opts.retries + 1} times on {what}: {_describe(last)}"
        with self._down_lock:
            self._down = self._down or reason
        raise StoreUnavailable(reason)

    def _config_error(self, code: str, exc: ClientError) -> StoreConfigError:
        if code == "InvalidAccessKeyId":
            why = "the AWS access key id is not known to the endpoint (InvalidAccessKeyId)"
        elif code == "SignatureDoesNotMatch":
            why = "the AWS secret key does not match the access key (SignatureDoesNotMatch)"
        elif code in ("ExpiredToken", "InvalidToken"):
            why = f"the AWS session token is not valid ({code})"
        else:
            why = f"access denied ({code if code != '403' else '403 Forbidden'})"
        return StoreConfigError(
            f"cannot use bucket {self.bucket!r} at {self.endpoint}: {why}; check the credentials "
            "(AWS_PROFILE, AWS_ACCESS_KEY_ID, --s3-profile) and the bucket policy"
        )


def _client(options: StoreOptions) -> Any:
    """The boto3 client: credentials and region from the standard chain, the rest from ``options``."""
    try:
        session = boto3.session.Session(profile_name=options.profile, region_name=options.region)
        config = Config(
            retries={"mode": "standard", "total_max_attempts": max(1, options.max_attempts)},
            s3={"addressing_style": options.addressing_style or "auto"},
            max_pool_connections=max(10, options.max_concurrency * 2),
            connect_timeout=options.connect_timeout,
            read_timeout=options.read_timeout,
        )
        return session.client(
            "s3",
            endpoint_url=options.endpoint_url or None,
            region_name=options.region or session.region_name or "us-east-1",
            config=config,
        )
    except ProfileNotFound as exc:
        raise StoreConfigError(f"AWS profile not found: {exc}") from None
    except NoRegionError as exc:  # pragma: no cover - we always give a region
        raise StoreConfigError(str(exc)) from None
    except ValueError as exc:  # e.g. a malformed endpoint URL
        raise StoreConfigError(f"invalid S3 settings: {exc}") from None


def _backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential with jitter: half the step fixed, half random, so retries of many threads spread out."""
    step = min(cap, base * 2 ** (attempt - 1))
    return step / 2 + random.uniform(0, step / 2)


class _ConditionsUnsupported(Exception):
    """The endpoint refused If-Match / If-None-Match with 501 Not Implemented."""


_CONFLICT_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})


def _code(exc: ClientError) -> tuple[str, int]:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return str(error.get("Code") or status), int(status)


def _message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message") or exc)[:200]


def _describe(exc: Exception | None) -> str:
    if isinstance(exc, ClientError):
        code, status = _code(exc)
        return f"{code} (HTTP {status})"
    return f"{type(exc).__name__}: {exc}"[:300] if exc else "unknown error"

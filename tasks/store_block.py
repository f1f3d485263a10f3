"""The ``PagescrubStore`` Prefect block: a store's settings saved on the Prefect server under a name.

Apart from ``tasks/store.py`` so that the cleaning worker processes, which
import the store but never a block, do not import Prefect (about 60 MB each).
"""

from __future__ import annotations

from typing import Literal

from prefect.blocks.core import Block
from pydantic import Field

from .store import DEFAULT_WRITE_CONCURRENCY, Store, StoreOptions, open_store

__all__ = ["PagescrubStore"]


class PagescrubStore(Block):
    """Where a pagescrub deployment writes, saved on the Prefect server under a name.

    Plain boto3 underneath, not prefect-aws: prefect-aws would add a heavy
    dependency (and its own credential blocks) for what is, here, one client
    constructor. Credentials are never stored in the block; they come from the
    standard AWS chain on the worker (environment, ``profile``, instance role).
    """

    _block_type_name = "Pagescrub Store"
    _block_type_slug = "pagescrub-store"
    _description = "Output store of pagescrub runs: a folder or s3://bucket/prefix/, and how to reach it."

    url: str = Field(description="A folder, or s3://bucket/prefix/.")
    endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint (MinIO, Ceph, R2); empty for AWS.")
    addressing_style: Literal["auto", "path", "virtual"] | None = None
    profile: str | None = Field(default=None, description="AWS profile name (credentials stay in the AWS chain).")
    region: str | None = None
    max_concurrency: int = Field(default=DEFAULT_WRITE_CONCURRENCY, ge=1, le=256, description="Concurrent writes.")

    def options(self) -> StoreOptions:
        return StoreOptions(
            endpoint_url=self.endpoint_url,
            addressing_style=self.addressing_style,
            profile=self.profile,
            region=self.region,
            max_concurrency=self.max_concurrency,
        )

    def open(self) -> Store:
        return open_store(self.url, self.options())

"""The near-duplicate step of a run: link each record to the first-seen copy of its story.

One index per output store, kept in its ``state/`` and shared by every run into
that store, so that a copy fetched next week is linked to the one stored today.
Records are linked in one thread, in input order (first seen wins), between
cleaning and writing.
"""

from __future__ import annotations

from typing import Any

from .dedupe import DEFAULT_THRESHOLD, DuplicateIndex, IndexConflict, IndexStateError, blob_generation
from .record import apply_link
from .store import StateConflict, Store

__all__ = ["INDEX_STATE", "DuplicateLinker"]

#: Name of the index in the store's ``state/``.
INDEX_STATE = "dedupe-index.bin"


class DuplicateLinker:
    """Loads the store's duplicate index, links records, saves the index back.

    Saving is optimistic: the index carries a generation number, and a save
    that finds another run's newer index in the store merges it (union, earliest
    first-seen wins, links already handed out unchanged) and tries again. The
    write itself is conditional on the version read (``Store.put_state_if``: a
    file lock locally, ``If-Match`` on S3), so of two saves in the same instant
    one wins and the other merges and retries: no run's additions are lost.
    """

    def __init__(
        self, store: Store, *, enabled: bool = True, threshold: float = DEFAULT_THRESHOLD, save_to: Store | None = None
    ) -> None:
        """``store`` holds the index read; ``save_to`` (default ``store``) receives it.

        ``reclean`` reads the source store's index, so every record keeps the link it
        was given when first stored, whatever order the snapshots are read in.
        """
        self.store = save_to or store
        self.enabled = enabled
        self.linked = 0
        self.saved_bytes = 0
        """Size of the index last saved (the store's ``state/``, outside the run's object counts)."""
        self.index: DuplicateIndex | None = None
        self._stored = -1  # records in the index the destination holds (-1: none there): unchanged, no save
        if enabled:
            try:
                self.index = DuplicateIndex.load_or_new(
                    store.get_state, INDEX_STATE, threshold=threshold
                )
                self._stored = len(self.index) if self.index.generation else -1
                if save_to is not None and save_to is not store:
                    # Saving merges with what the destination already holds.
                    target = save_to.get_state(INDEX_STATE)
                    self._stored = -1
                    if target:
                        held = DuplicateIndex.from_bytes(target)
                        self.index.merge(held)
                        self._stored = len(held)
                    self.index.generation = blob_generation(target)
            except IndexStateError:
                # State from an incompatible version: start afresh rather than fail the run.
                self.index = DuplicateIndex(threshold)
                self._stored = -1

    def link(self, record: dict[str, Any]) -> None:
        """Set ``duplicate_of`` and ``cluster_id`` on ``record`` (in place)."""
        if self.index is None:
            return
        found = self.index.link(record["id"], record["text"], record.get("canonical_url"))
        apply_link(record, found.duplicate_of, found.cluster_id)
        self.linked += found.duplicate_of is not None

    def save(self) -> None:
        """Save the index to the store, unless it holds nothing new (a rerun writes nothing)."""
        self.saved_bytes = 0
        if self.index is None or len(self.index) == self._stored:
            return
        index = self.index

        def write(key: str, blob: bytes) -> None:
            current, version = self.store.read_state(key)
            if blob_generation(current) != index.generation:
                raise IndexConflict(key)
            try:
                self.store.put_state_if(key, blob, version)
            except StateConflict:
                raise IndexConflict(key) from None
            self.saved_bytes = len(blob)

        index.save(write, INDEX_STATE, read=self.store.get_state)

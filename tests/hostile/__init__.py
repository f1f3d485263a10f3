"""The hostile corpus: pages and server behaviours that must not crash, hang or exhaust a run."""

"""The steps of the pipeline, as plain typed functions with thin Prefect task wrappers."""

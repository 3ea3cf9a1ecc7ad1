"""Where work runs besides this process: `cluster` (Dask) — a drop-in `fingerprint_files` for both
products and shard lookups held on workers. The local process pool lives with extraction
(`audio.extract.fingerprint_files`) because both products use it as their default.
"""

"""The identify product: a persistent song library and lookups against it.

`store` (the versioned, checksummed, memory-mapped library file), `build` (indexing: lock, dedup, resumable
merges, removal), `shards` (a folder of library files searched as one), `identify` (vote counting over a
library's postings), `api` (media paths → identify results, song markers for timelines). Imports the root,
`audio`, `engine` and `export.timeline` (markers); never `sync`.
"""

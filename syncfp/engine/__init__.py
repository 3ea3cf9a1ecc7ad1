"""The fingerprint engine: numpy in, dataclasses out, never opens a file.

`fingerprint` (spectral peaks → landmark hashes, bit layout with pack/unpack), `hashtable` (the in-memory
CSR hash table), `match` (offset histograms between clips), `solve` (global offsets from pair matches),
`refine` (GCC-PHAT correlation). Imports only the package root (`types`, `config`, `errors`).
"""

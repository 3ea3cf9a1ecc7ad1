"""Media files → analysis audio and `Fingerprint`s: decode (the only reader of PyAV), the int16 analysis PCM
on disk, the fingerprint cache, and `fingerprint_files` (extract over many paths in a local process pool).

Both products (`sync` and `library`) read media through this package. It may import the package root and
`engine` (to hash the audio it decodes), nothing above.
"""

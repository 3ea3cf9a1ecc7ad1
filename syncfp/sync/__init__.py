"""The align product: `api.align(paths)` → `Alignment`.

`api` composes the stages (extract → match → verify → solve → rescue → results); `verify` and `rescue`
test hypotheses by correlating windows of the analysis audio on disk (hence here, not in `engine`);
`tracks` names each clip's device lane. Imports the root, `audio` and `engine`; never `library`.
"""

"""The CLI's defaults are the config's: an option left alone gives the library call exactly the default
config (`IdentifyConfig`, `ExportOptions`, the stage configs of `align`), and the defaults printed in
`--help` never drift from the dataclasses'."""

from __future__ import annotations

import dataclasses
import inspect
from types import SimpleNamespace

import typer
from typer.testing import CliRunner

from syncfp.cli import app
from syncfp.config import (
    DecodeConfig, FingerprintConfig, IdentifyConfig, MatchConfig, RescueConfig, SolveConfig, VerifyConfig,
)
from syncfp.export import ExportOptions
from syncfp.types import Alignment, ClipResult


def _defaults(*command: str) -> dict[str, object]:
    """Parameter name → default of ``syncfp <command…>``."""
    cmd = typer.main.get_command(app)
    for name in command:
        cmd = cmd.commands[name]
    return {p.name: p.default for p in cmd.params}


def test_identify_option_defaults_are_the_configs():
    d = _defaults("identify")
    cfg = IdentifyConfig()
    assert d["top"] == cfg.top
    assert d["speed_search"] is False and cfg.speeds == (1.0,)  # off: the unchanged speed, fallback on


def test_identify_with_default_options_passes_the_default_config(tmp_path, monkeypatch):
    import syncfp.library.api as lib_api
    import syncfp.library.shards as shards

    seen = []
    monkeypatch.setattr(shards, "open_any", lambda path: SimpleNamespace(tracks=[], path=path))
    monkeypatch.setattr(lib_api, "identify_paths", lambda lib, paths, *, cfg, segments: seen.append(cfg) or [])
    q = tmp_path / "q.wav"
    q.write_bytes(b"")
    r = CliRunner().invoke(app, ["identify", str(q), "--library", str(tmp_path / "lib.sfp")])
    assert r.exit_code == 0, r.output
    assert seen == [IdentifyConfig()]


def test_align_option_defaults_are_the_export_options():
    d = _defaults("align")
    opts = ExportOptions()
    assert d["fps"] is None and opts.fps is None
    assert d["edl_style"] == opts.edl_style
    assert d["no_drift_correction"] is (not opts.drift_correction)
    assert d["fcpx_multicam"] is opts.fcpx_multicam


def test_align_stage_configs_default_to_the_config_classes():
    """`syncfp align` passes no stage config: `align()`'s own defaults, which are the classes' defaults."""
    from syncfp.sync.api import align

    params = inspect.signature(align).parameters
    for name, cls in (("decode", DecodeConfig), ("fingerprint", FingerprintConfig), ("match", MatchConfig),
                      ("verify", VerifyConfig), ("solve_cfg", SolveConfig), ("rescue_cfg", RescueConfig)):
        assert params[name].default == cls(), name


def test_align_with_default_options_passes_the_default_export_options(tmp_path, monkeypatch):
    import syncfp.export as export
    import syncfp.sync.api as api

    calls, written = [], []
    clip = tmp_path / "a.wav"
    clip.write_bytes(b"")

    def fake_align(paths, **kw):
        calls.append(kw)
        return Alignment(clips=[ClipResult(str(clip), 10.0, 1, "rec", 0.0)])

    monkeypatch.setattr(api, "align", fake_align)
    monkeypatch.setattr(export, "write", lambda al, path, *, fmt, options: written.append(options) or [path])
    r = CliRunner().invoke(app, ["align", str(clip), "-o", str(tmp_path / "out.json"), "--quiet"])
    assert r.exit_code == 0, r.output
    (kw,) = calls
    assert not {"decode", "fingerprint", "match", "verify", "solve_cfg", "rescue_cfg"} & set(kw)
    assert written == [ExportOptions()]


def test_compact_target_is_the_shards_default():
    from syncfp.library.shards import COMPACT_BYTES, compact

    assert _defaults("library", "compact")["target_mb"] << 20 == COMPACT_BYTES
    assert inspect.signature(compact).parameters["target_bytes"].default == COMPACT_BYTES


def test_every_config_is_a_frozen_dataclass():
    for cls in (DecodeConfig, FingerprintConfig, MatchConfig, VerifyConfig, SolveConfig, RescueConfig, IdentifyConfig):
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen


def _all_params():
    """Every typer parameter of every command and group (with click's --help option)."""
    from typer.core import TyperGroup

    root = typer.main.get_command(app)
    todo, out = [root], []
    while todo:
        cmd = todo.pop()
        out += [(cmd.name, p) for p in cmd.get_params(typer.Context(cmd))]
        if isinstance(cmd, TyperGroup):
            todo += list(cmd.commands.values())
    return out


def test_plain_coercion_gives_typers_values_and_errors():
    """`usage.plain_coercion` (options converted without importing pydantic) returns exactly what typer's
    own pydantic converter returns, and for values it does not handle, typer's own error."""
    pytest = __import__("pytest")
    coercion = pytest.importorskip("typer._coercion")
    from syncfp.cli.usage import plain_coercion

    samples = {str: ["a", "", " x ", "\udcff.wav", "-", "5"], int: [5, 0, "5", "007", "+5", "-3", "12345678901234567890",
               " 5", "5.0", "1_000", "x", "", "٣"], bool: [True, False], list[str]: [("a", "b"), [], ["\udcff"], ("5",)]}
    seen = set()
    for cmd, param in _all_params():
        desc = param.type_descriptor
        param._runtime_param = None
        if not plain_coercion(param):
            continue
        seen.add(desc.annotation if desc.annotation != list[str] else "list")
        theirs = coercion.build_runtime_param(desc)
        ctx = typer.Context(typer.main.get_command(app))
        for value in samples[desc.annotation] + [param.default]:
            results = []
            for conv in (param._runtime_param, theirs):
                try:
                    results.append(("ok", conv.coerce(value, param=param, ctx=ctx)))
                except Exception as exc:  # noqa: BLE001 - the error itself is compared
                    results.append(("error", type(exc).__name__, str(exc)))
            assert results[0] == results[1] and type(results[0][-1]) is type(results[1][-1]), (cmd, param.name, value)
        param._runtime_param = None
    assert seen == {str, int, bool, "list"}

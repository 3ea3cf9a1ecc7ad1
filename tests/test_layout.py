"""The package's import graph runs one way (docs/algorithm.md, "Map of the package"): a module that imports
against the intended direction fails here, whether the import sits at the top or inside a function."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "syncfp"

# layer → layers it may import (itself included); "root" is types, config, errors, fsutil, inputs, lanes
ALLOWED: dict[str, set[str]] = {
    "root": {"root"},
    "engine": {"root", "engine"},
    "export": {"root", "export"},
    "audio": {"root", "engine", "audio"},
    "sync": {"root", "engine", "audio", "sync"},
    "library": {"root", "engine", "audio", "export", "library"},
    "runners": {"root", "engine", "audio", "export", "sync", "library", "runners"},
    "cli": {"root", "engine", "audio", "export", "sync", "library", "runners", "cli", "facade"},  # facade: __version__
}
EXEMPT = {"syncfp", "syncfp.__main__"}  # the lazy facade and the `python -m` entry re-export from anywhere
FILE_IO = {"os", "io", "tempfile", "shutil", "pathlib", "mmap", "av", "soundfile"}  # the engine never opens files


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(module: str) -> str:
    """`syncfp.engine.match` → engine; `syncfp.types` → root."""
    parts = module.split(".")
    if len(parts) > 1 and (PKG / parts[1]).is_dir():
        return parts[1]
    return "root"


def imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in *tree*, relative ones resolved; `from . import x` names
    the submodule x when there is one."""
    package = module if is_package else module.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            subs = [f"{target}.{a.name}" for a in node.names]
            found = [s for s in subs if s.startswith("syncfp") and _exists(s)]
            out += [(node.lineno, s) for s in found] or [(node.lineno, target)]
    return out


def _exists(module: str) -> bool:
    p = PKG.parent.joinpath(*module.split("."))
    return p.is_dir() or p.with_suffix(".py").is_file()


def violations(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """Imports of *module* (given as *source*) that go against `ALLOWED`, or engine file access."""
    tree = ast.parse(source)
    mine = layer(module)
    bad = []
    for line, target in imports(tree, module, is_package):
        top = target.split(".")[0]
        if top == "syncfp":
            if target in EXEMPT and target != "syncfp":
                continue
            theirs = layer(target) if target != "syncfp" else "facade"
            if theirs not in ALLOWED[mine]:
                bad.append(f"{module}:{line} ({mine}) imports {target} ({theirs})")
        elif mine == "engine" and top in FILE_IO:
            bad.append(f"{module}:{line} (engine) imports {top}: the engine never opens a file")
    if mine == "engine":
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
                bad.append(f"{module}:{node.lineno} (engine) calls open(): readers are passed in")
    return bad


def package_files() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if module_name(p) not in EXEMPT)


def test_every_subpackage_has_a_layer():
    subpackages = {p.name for p in PKG.iterdir() if (p / "__init__.py").is_file()}
    assert subpackages == set(ALLOWED) - {"root"}


@pytest.mark.parametrize("path", package_files(), ids=lambda p: module_name(p))
def test_imports_run_downward(path: Path):
    assert violations(path.read_text(encoding="utf-8"), module_name(path),
                      is_package=path.name == "__init__.py") == []


def test_checker_catches_an_upward_import():
    """The check itself: an engine module importing the align product, a library module importing sync,
    and the engine opening a file are each reported, at top level or inside a function."""
    assert violations("from ..sync import api\n", "syncfp.engine.match")
    assert violations("def f():\n    from ..sync.api import align\n", "syncfp.library.identify")
    assert violations("from . import cli\n", "syncfp.types")
    assert violations("import os\n", "syncfp.engine.solve")
    assert violations("def f(p):\n    return open(p)\n", "syncfp.engine.refine")
    assert not violations("from ..engine.fingerprint import pack\n", "syncfp.audio.extract")


def test_only_audio_decode_reads_media():
    """PyAV is read in one place: `audio/decode.py` (test media are written by `bench/encode.py`)."""
    readers = [module_name(p) for p in package_files()
               if any(t.split(".")[0] == "av" for _, t in imports(ast.parse(p.read_text(encoding="utf-8")),
                                                                  module_name(p), p.name == "__init__.py"))]
    assert readers == ["syncfp.audio.decode"]


def test_package_root_is_lazy():
    """`import syncfp` and the CLI module load no PyAV, SciPy, OpenTimelineIO, numpy or exporter until a
    command or a public name needs them; every public name still resolves from the root."""
    code = ("import sys, syncfp, syncfp.cli\n"
            "heavy = ('av', 'scipy', 'opentimelineio', 'numpy', 'syncfp.export', 'syncfp.sync', 'syncfp.library.store')\n"
            "print(','.join(m for m in heavy if m in sys.modules))\n"
            "missing = [n for n in syncfp.__all__ if getattr(syncfp, n, None) is None]\n"
            "print(','.join(missing))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    loaded, missing = out.stdout.split("\n")[:2]
    assert loaded == "" and missing == ""


def test_version_option():
    out = subprocess.run([sys.executable, "-m", "syncfp", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip().startswith("syncfp ")


# what a cold `syncfp identify -f json` must not import (docs/benchmarks.md, "Start-up"): SciPy's fft and
# ndimage with its array-API layer (~0.2-0.3 s; the fingerprint uses engine/spectral.py), pydantic (typer's
# converter, ~0.1 s; cli/usage.plain_coercion), rich (nothing to show in JSON; cli/console.py), numpy.ma
# (np.unique's first call), the process pool, typer's rich help, the exporters and the align product
IDENTIFY_MUST_NOT_LOAD = ("scipy", "pydantic", "rich", "numpy.ma", "multiprocessing", "concurrent.futures",
                          "typer.rich_utils", "opentimelineio", "syncfp.export", "syncfp.sync", "syncfp.runners")


def test_identify_command_loads_nothing_heavy(tmp_path):
    """A real `syncfp identify clip.wav --library lib.sfp -f json`, run whole in a fresh interpreter, names
    the song and leaves every module of `IDENTIFY_MUST_NOT_LOAD` unimported."""
    import json

    import soundfile as sf

    from bench.synth import concert
    from syncfp.library.build import index_files

    song = concert(24.0, rate_hz=8000, seed=7)
    sf.write(tmp_path / "song.wav", song, 8000)
    sf.write(tmp_path / "clip.wav", song[8000 * 9 : 8000 * 17], 8000)
    lib = str(tmp_path / "lib.sfp")
    index_files(lib, [str(tmp_path / "song.wav")], workers=1)
    code = ("import sys\n"
            "from syncfp.cli import main\n"
            f"sys.argv = ['syncfp', 'identify', {str(tmp_path / 'clip.wav')!r}, '--library', {lib!r}, '-f', 'json']\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
            f"heavy = {IDENTIFY_MUST_NOT_LOAD!r}\n"
            "print(','.join(m for m in sorted(sys.modules) if any(m == h or m.startswith(h + '.') for h in heavy)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    answer, loaded = out.stdout.split("\n")[:2]
    match = json.loads(answer)["matches"][0]
    assert match["path"].endswith("song.wav") and abs(match["offset"] - 9.0) < 0.05
    assert loaded == ""


def test_help_is_plain_text_without_rich():
    """`syncfp --help` and a command's `--help` are click's plain text: typer's rich renderer (rich.markdown,
    markdown_it, pygments) doubled their time (docs/benchmarks.md, "Start-up")."""
    code = ("import sys\n"
            "from syncfp.cli import main\n"
            "for argv in (['syncfp', '--help'], ['syncfp', 'identify', '--help']):\n"
            "    sys.argv = argv\n"
            "    try:\n        main()\n    except SystemExit as exc:\n        assert not exc.code, exc.code\n"
            "print('LOADED', ','.join(m for m in sorted(sys.modules) if m.split('.')[0] in ('rich', 'markdown_it', "
            "'pygments', 'pydantic') or m == 'typer.rich_utils'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Usage: syncfp [OPTIONS] COMMAND" in out.stdout and "--library" in out.stdout
    assert out.stdout.rstrip().endswith("LOADED")

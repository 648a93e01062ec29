"""`pip install photosync` gives a working `photosync` command: the wheel is built from this checkout
and installed with its dependencies into a fresh virtual environment, from the same package index
and cache as any install here, and the command runs there."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_the_installed_wheel_gives_a_working_command(tmp_path):
    # Built from a copy: setuptools leaves a build/ directory in the tree it builds.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "src"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif (REPO / name).exists():
            shutil.copy2(REPO / name, source / name)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", tmp_path / "dist", source)
    (wheel,) = (tmp_path / "dist").glob("photosync-*.whl")
    venv.create(tmp_path / "env", with_pip=True)
    bin_dir = tmp_path / "env" / "bin"

    run(bin_dir / "python", "-m", "pip", "install", "--quiet", wheel)

    help_text = run(bin_dir / "photosync", "--help").stdout
    for command in ("serve", "migrate", "login", "backup", "download", "free-up-space"):
        assert command in help_text, help_text
    assert "--allow-dev-login" in run(bin_dir / "photosync", "serve", "--help").stdout
    # The installed package, not this checkout, answered.
    where = run(bin_dir / "python", "-c", "import photosync; print(photosync.__file__)", cwd=tmp_path).stdout
    assert where.startswith(str(tmp_path / "env")), where

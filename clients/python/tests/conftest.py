"""Shared fixtures: the Swift `qlink` tool built in this checkout is the independent reference."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
DATA = pathlib.Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def qlink_tool():
    """Runs the Swift `qlink` tool (`QLINK_BIN`, else .build/debug/qlink) and returns its standard output."""
    binary = pathlib.Path(os.environ.get("QLINK_BIN", ROOT / ".build" / "debug" / "qlink"))
    if not binary.is_file():
        pytest.skip(f"{binary} is missing: run `swift build` first (or set QLINK_BIN)")

    def run(*arguments, check=True):
        result = subprocess.run([str(binary), *map(str, arguments)], capture_output=True, text=True, cwd=ROOT)
        if check and result.returncode != 0:
            raise AssertionError(f"qlink {' '.join(map(str, arguments))} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result
    return run


@pytest.fixture(scope="session")
def simulated(qlink_tool, tmp_path_factory):
    """A folder of .qtag files written by `qlink simulate` (a short heralded link run)."""
    folder = tmp_path_factory.mktemp("simulated")
    qlink_tool("simulate", "--config", ROOT / "configs" / "loopback.yaml", "--seconds", "0.002", "--seed", "7",
               "--out", folder, "--overwrite")
    files = sorted(folder.glob("*.qtag"))
    assert files, f"qlink simulate wrote no .qtag file into {folder}"
    return files

"""Shell completion of the ``popsim`` command, asked as the shell asks it.

Each test runs the installed ``popsim`` entry point in a subprocess with the environment that
argcomplete's shell hook sets (``_ARGCOMPLETE``, ``COMP_LINE``, ``COMP_POINT``; the answer goes
to ``_ARGCOMPLETE_STDOUT_FILENAME`` instead of file descriptor 8), and reads the completions it
writes, separated by argcomplete's default IFS (a vertical tab) as bash receives them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from popsim.scenario import load_scenario
from popsim.scenario.loader import available_scenarios

BIN = Path(sys.executable).parent
POPSIM = BIN / "popsim"


def complete(line: str, cwd: Path, shell: str | None = None) -> list[str]:
    """The completions of ``line`` (the cursor at its end) that ``popsim`` gives the shell."""
    out = cwd / "completions.txt"
    env = {**os.environ, "_ARGCOMPLETE": "1", "COMP_LINE": line, "COMP_POINT": str(len(line)),
           "_ARGCOMPLETE_STDOUT_FILENAME": str(out)}
    env.pop("_ARGCOMPLETE_IFS", None)
    if shell:  # as argcomplete's zsh and fish hooks set them
        env |= {"_ARGCOMPLETE_SHELL": shell, "_ARGCOMPLETE_SUPPRESS_SPACE": "1"}
    proc = subprocess.run([str(POPSIM)], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    return text.split("\v") if text else []


@pytest.fixture
def here(tmp_path):
    (tmp_path / "my_county.toml").write_text('extends = "county"\n', encoding="utf-8")
    (tmp_path / "notes.txt").write_text("", encoding="utf-8")
    return tmp_path


def test_commands_complete(here):
    assert complete("popsim com", here) == ["compare "]
    everything = complete("popsim ", here)
    for command in ("run", "scenarios", "show", "params", "compare", "sweep", "app"):
        assert command in everything
    assert "--version" in everything


def test_scenario_names_and_toml_files_complete(here):
    assert complete("popsim run coun", here) == ["county "]
    crackdowns = sorted(n for n in available_scenarios() if n.startswith("cr"))
    assert len(crackdowns) >= 2 and sorted(complete("popsim compare county cr", here)) == \
        crackdowns
    # a scenario may be a TOML file: .toml files are offered, other files are not
    assert complete("popsim show my_", here) == ["my_county.toml "]
    assert complete("popsim show not", here) == []
    assert load_scenario(here / "my_county.toml").name  # the offered file is a real scenario
    # zsh shows each scenario's one-line description beside its name
    assert complete("popsim run coun", here, shell="zsh") == [
        f"county:{available_scenarios()['county']}"]


def test_set_completes_parameter_paths_with_their_meaning(here):
    assert complete("popsim run county --set run.hou", here) == ["run.households="]
    paths = complete("popsim show --set incentives.", here)
    assert "incentives.benefit_per_year=" in paths
    assert all(p.startswith("incentives.") and p.endswith("=") for p in paths)
    # zsh shows each completion's description: the schema's meaning and unit
    (line,) = complete("popsim run --set run.hou", here, shell="zsh")
    path, meaning = line.split(":", 1)
    assert path == "run.households=" and "households" in meaning.lower() and meaning


def test_the_documented_activation_line_names_popsim():
    script = subprocess.run([str(BIN / "register-python-argcomplete"), "popsim"],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    assert "complete " in script and "popsim" in script and "_ARGCOMPLETE" in script

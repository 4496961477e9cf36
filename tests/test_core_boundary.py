"""core/ stays headless: importing the engine loads no Textual, Rich, pandas or provider SDK."""

import subprocess
import sys

from tests.conftest import REPO


def test_core_imports_no_ui_or_heavy_libraries():
    script = (
        "import sys, core.workspace, core.engine, core.launch, core.report, cli.main;"
        "print(sorted(m for m in ('textual', 'rich', 'pandas', 'together', 'numpy') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "[]"

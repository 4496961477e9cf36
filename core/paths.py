"""Where factdeck keeps its config, database, run folders and logs.

`FACTDECK_HOME=DIR` puts everything under DIR (tests and users rely on it). Without it the
platform's own config, data and state directories are used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "factdeck"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    state_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def credentials_file(self) -> Path:
        return self.config_dir / "credentials.toml"

    @property
    def database(self) -> Path:
        return self.data_dir / "factdeck.sqlite3"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "factdeck.log"

    def run_dir(self, run_id: str) -> Path:
        return self.runs_dir / run_id


def resolve_paths() -> Paths:
    """Return the directories for this process, honouring `FACTDECK_HOME`."""
    home = os.environ.get("FACTDECK_HOME")
    if home:
        root = Path(home).expanduser()
        return Paths(config_dir=root, data_dir=root, state_dir=root / "state")

    import platformdirs

    return Paths(
        config_dir=Path(platformdirs.user_config_dir(APP_NAME)),
        data_dir=Path(platformdirs.user_data_dir(APP_NAME)),
        state_dir=Path(platformdirs.user_state_dir(APP_NAME)),
    )

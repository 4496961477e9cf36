"""One process's view of factdeck: its paths, config, store, providers and engine."""

from __future__ import annotations

import logging
from functools import cached_property

from core.config import LoadedConfig, load_config
from core.engine import Engine
from core.errors import FactdeckError
from core.paths import Paths, resolve_paths
from core.providers.base import Provider
from core.secrets import find_api_key
from core.store import Store


class Workspace:
    """Opens what a command needs on first use, so a quick command stays quick."""

    def __init__(self, paths: Paths | None = None, loaded: LoadedConfig | None = None) -> None:
        self.paths = paths or resolve_paths()
        self.loaded = loaded or load_config(self.paths.config_file)
        self._providers: dict[str, Provider] = {}

    @property
    def config(self):
        return self.loaded.config

    @cached_property
    def store(self) -> Store:
        return Store(self.paths.database)

    def engine(self) -> Engine:
        return Engine(self.store, self.paths, self.provider)

    def provider(self, name: str) -> Provider:
        """Return the provider for `name`, built once per process."""
        if name not in self._providers:
            self._providers[name] = self._build_provider(name)
        return self._providers[name]

    def _build_provider(self, name: str) -> Provider:
        if name == "mock":
            from core.providers.mock import MockProvider

            return MockProvider(self.paths.data_dir / "mock")
        if name == "together":
            from core.providers.together import TogetherProvider

            key, _ = find_api_key(self.paths.credentials_file)
            return TogetherProvider(api_key=key, base_url=self.config.provider.base_url)
        raise FactdeckError(f"unknown provider {name!r}; use together or mock")


def configure_logging(paths: Paths, level: int = logging.INFO) -> None:
    """Log to `factdeck.log` in the state directory (a TUI hides stderr, so the file is the record)."""
    try:
        paths.state_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(paths.log_file, encoding="utf-8")
    except OSError as exc:
        raise FactdeckError(f"{paths.log_file}: cannot open the log file: {exc.strerror}") from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(handler)
    for noisy in ("httpx", "httpcore", "together"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

"""The Models screen: configure a run (provider, key, models, dataset, templates) and start it.

Settings are saved to the config file with ctrl+s, and when a run starts (unless the file has
problems, which only an explicit save overwrites). Model lists, key checks, template reads and
launches all run in thread workers.

| Key | Action |
|---|---|
| tab, shift+tab | next, previous field |
| ctrl+l | pick student models or the judge from the provider's list (searchable) |
| ctrl+s | save the settings to the config file |
| ctrl+g | start the run(s) after a pre-flight summary |
| escape | leave the field, so 1, 2, 3, q and ? work again |
"""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Collapsible, Header, Input, Label, Select, Static

from core.config import Config, with_changes
from core.text import one_line
from tui.model_picker import ModelPickerScreen
from tui.widgets.key_bar import KeyBar
from tui.settings_form import FIELDS, field_text, read_fields
from tui.tasks import KeyStatus, PreparedLaunch, fetch_models, key_status, prepare_launch, read_template, save_key, start_prepared

PROVIDER_OPTIONS = [("together: Together AI Batch API", "together"), ("mock: simulated, offline", "mock")]
TEMPLATE_FIELDS = {"student-template": "student", "judge-template": "judge"}
PICKERS = {"pick-students": "student-models", "pick-judge": "judge-model"}


class ModelsScreen(Screen):
    """The settings form of the next run."""

    TITLE = "Models"
    # Fits 80 columns; escape (leave a field, so 1, 2, 3 and ? work) is under ?.
    KEY_BAR = (("^g", "start run"), ("^s", "save"), ("^l", "pick models"), ("1 2 3", "screens"))
    AUTO_FOCUS = "#provider"
    BINDINGS = [
        Binding("ctrl+l", "pick_models", "Pick models", id="models.pick"),
        Binding("ctrl+s", "save", "Save", id="models.save"),
        Binding("ctrl+g", "start_run", "Start run", id="models.start"),
        Binding("escape", "leave_field", "Leave field", show=False, id="models.leave"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._launching = False

    def compose(self) -> ComposeResult:
        config: Config = self.app.settings
        yield Header()
        with VerticalScroll(id="settings", can_focus=False):
            yield Static(self._problems_text(), id="config-problems", markup=False, classes="banner")
            with Horizontal(classes="row"):
                yield Label("Provider", classes="field-label")
                yield Select(PROVIDER_OPTIONS, value=config.provider.name, allow_blank=False, id="provider", compact=True)
            with Horizontal(classes="row key-row"):
                yield Label("API key", classes="field-label")
                yield Static("checking…", id="key-status", markup=False)
            with Horizontal(classes="row key-row"):
                yield Label("", classes="field-label")
                yield Input(password=True, placeholder="paste a key, then Save key", id="api-key", compact=True)
                yield Button("Save key", id="save-key", compact=True)
            for field in FIELDS:
                with Horizontal(classes="row"):
                    yield Label(field.label, classes="field-label")
                    yield Input(field_text(config, field), placeholder=field.placeholder, id=field.widget_id, compact=True)
                    if field.widget_id == "student-models":
                        yield Button("Pick", id="pick-students", compact=True)
                    elif field.widget_id == "judge-model":
                        yield Button("Pick", id="pick-judge", compact=True)
                if field.widget_id in TEMPLATE_FIELDS:
                    with Collapsible(title=f"Show the {TEMPLATE_FIELDS[field.widget_id]} template", classes="template"):
                        yield Static("loading…", id=f"{field.widget_id}-preview", markup=False)
            with Horizontal(classes="row buttons"):
                yield Button("Save (ctrl+s)", id="save", compact=True)
                yield Button("Start run (ctrl+g)", id="start", variant="primary", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#config-problems").display = bool(self.app.config_problems)
        self._show_provider(self.app.settings.provider.name)
        self.app.run_in_thread(partial(key_status, self.app.paths), "key-status", self._show_key_status)
        for widget_id in TEMPLATE_FIELDS:
            self._load_template(widget_id)

    def _problems_text(self) -> Text:
        problems = self.app.config_problems
        text = Text("The config file has problems. factdeck keeps its valid values and uses the defaults for the keys "
                    "below (for all of them if the file cannot be read); the file stays as it is until you save "
                    "(ctrl+s), which keeps a copy of it first:\n", style="bold")
        for problem in problems:
            text.append(f"  {one_line(str(problem))}\n")
        return text

    # Form values

    def form_values(self) -> dict[str, str]:
        return {field.widget_id: self.query_one(f"#{field.widget_id}", Input).value for field in FIELDS}

    def form_config(self) -> tuple[Config, list[str]]:
        """Return the settings the form shows, and one message per invalid field."""
        provider = self.query_one("#provider", Select).value
        base = with_changes(self.app.settings, "provider", name=provider)
        return read_fields(base, self.form_values())

    def _valid_config(self) -> Config | None:
        config, problems = self.form_config()
        if problems:
            self.notify("\n".join(problems), title="Fix these settings", severity="error", markup=False)
            return None
        return config

    # Provider and key

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "provider":
            self._show_provider(str(event.value))

    def _show_provider(self, provider: str) -> None:
        for row in self.query(".key-row"):
            row.display = provider == "together"

    def _show_key_status(self, status: KeyStatus) -> None:
        if status.found:
            text = Text("✓ found in ")
            text.append(status.where)
        else:
            text = Text("✗ missing: set TOGETHER_API_KEY, or paste a key below and press Save key ", style="bold")
            text.append(f"(stored in {status.credentials_file}, readable only by you; never in the config)", style="")
        self.query_one("#key-status", Static).update(text)

    def _save_key(self) -> None:
        box = self.query_one("#api-key", Input)
        key = box.value.strip()
        if not key:
            self.notify("Paste the API key first.", title="No key", severity="warning")
            return
        box.value = ""

        def saved(status: KeyStatus) -> None:
            self._show_key_status(status)
            self.app.model_cache.clear()
            self.app.engine_loop.use_new_key()
            note = " The environment variable still wins while it is set." if "environment" in status.where else ""
            self.notify(f"Key saved to {status.credentials_file}.{note}", title="API key saved", markup=False)

        self.app.run_in_thread(partial(save_key, self.app.paths, key), "save-key", saved)

    # Templates

    def _load_template(self, widget_id: str) -> None:
        path = self.query_one(f"#{widget_id}", Input).value.strip() or None
        preview = self.query_one(f"#{widget_id}-preview", Static)

        def show(text: str) -> None:
            preview.update(Text(text))

        self.app.run_in_thread(partial(read_template, path, TEMPLATE_FIELDS[widget_id]), f"template-{widget_id}", show,
                               on_error=lambda error: preview.update(Text(one_line(str(error)), style="red")))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in TEMPLATE_FIELDS:
            self._load_template(event.input.id)
        elif event.input.id == "api-key":
            self._save_key()

    def on_input_blurred(self, event: Input.Blurred) -> None:
        if event.input.id in TEMPLATE_FIELDS:
            self._load_template(event.input.id)

    # Model picker

    def action_pick_models(self) -> None:
        focused = self.focused.id if self.focused else None
        self._open_picker(judge=focused in ("judge-model", "pick-judge"))

    def _open_picker(self, judge: bool) -> None:
        config, _ = self.form_config()
        field = self.query_one("#judge-model" if judge else "#student-models", Input)
        chosen = tuple(item.strip() for item in field.value.split(",") if item.strip())
        title = "Judge model (enter to choose)" if judge else "Student models (space to check, ctrl+s when done)"
        picker = ModelPickerScreen(title, chosen, multiple=not judge)

        def apply(models: tuple[str, ...] | None) -> None:
            if models is not None:
                field.value = ", ".join(models)

        self.app.push_screen(picker, apply)
        cache_key = (config.provider.name, config.provider.base_url)
        cached = self.app.model_cache.get(cache_key)
        if cached is not None:
            picker.set_models(cached)
            return

        def fetched(models: list) -> None:
            self.app.model_cache[cache_key] = models
            picker.set_models(models)

        self.app.run_in_thread(partial(fetch_models, self.app.paths, config), "list-models", fetched,
                               on_error=lambda error: picker.show_failure(str(error)))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button = event.button.id
        if button in PICKERS:
            self._open_picker(judge=button == "pick-judge")
        elif button == "save-key":
            self._save_key()
        elif button == "save":
            self.action_save()
        elif button == "start":
            self.action_start_run()

    # Save and start

    def action_leave_field(self) -> None:
        self.set_focus(None)

    def action_save(self) -> None:
        config = self._valid_config()
        if config is None:
            return
        backup = self.app.store_settings(config)
        self.query_one("#config-problems").display = False
        self.notify(f"Settings saved to {self.app.paths.config_file}", title="Saved", markup=False, timeout=3)
        if backup is not None:
            self.notify(f"Your previous config had problems; a copy was kept at {backup}", title="Backup kept",
                        severity="warning", markup=False, timeout=10)

    def _keep_settings(self, config: Config) -> bool:
        """Save the settings unless the config file has problems; return whether they were saved."""
        if self.app.config_problems:
            self.app.use_settings(config)
            return False
        self.app.store_settings(config)
        return True

    def action_start_run(self) -> None:
        if self._launching:
            self.notify("A run is already being prepared.", title="Busy", severity="warning")
            return
        config = self._valid_config()
        if config is None:
            return
        saved = self._keep_settings(config)
        self._launching = True
        # Short, so it is gone by the time the summary opens over it.
        self.notify("Loading the dataset and estimating the cost…", title="Pre-flight", timeout=1.5)
        known = self.app.model_cache.get((config.provider.name, config.provider.base_url))
        self.app.run_in_thread(partial(prepare_launch, self.app.paths, config, known), "preflight",
                               partial(self._confirm_launch, config, saved), on_error=self._launch_failed)

    def _launch_failed(self, error: BaseException) -> None:
        self._launching = False

    def _confirm_launch(self, config: Config, saved: bool, prepared: PreparedLaunch) -> None:
        from tui.modals import ConfirmScreen
        from tui.preflight_view import preflight_text

        body = preflight_text(prepared, len(prepared.dataset.questions))
        if not saved:
            body.append("\n⚠ These settings are used for this run but not saved: the config file has problems (ctrl+s saves).",
                        style="yellow")
        # Toasts would cover the summary's lines.
        self.app.clear_notifications()
        runs = prepared.preflight.runs

        def decided(confirmed: bool | None) -> None:
            if not confirmed:
                self._launching = False
                return
            self.app.run_in_thread(partial(start_prepared, self.app.paths, config, prepared), "start-runs",
                                   self._runs_started, on_error=self._launch_failed)

        self.app.push_screen(ConfirmScreen(f"Start {runs} run{'s' if runs != 1 else ''}?", body, "Start"), decided)

    def _runs_started(self, run_ids: list[str]) -> None:
        self._launching = False
        self.notify("Started " + ", ".join(run_ids), title=f"{len(run_ids)} run(s) started", markup=False)
        self.app.engine_loop.refresh()
        self.app.switch_mode("jobs")

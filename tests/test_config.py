"""The TOML config: strict validation with locations, defaults on problems, atomic saving."""

import tomllib

from core.config import Config, load_config, save_config, with_changes


def test_missing_file_is_first_run(tmp_path):
    loaded = load_config(tmp_path / "config.toml")
    assert loaded.exists is False
    assert loaded.problems == []
    assert loaded.config == Config()


def test_round_trip_leaves_unset_values_out(tmp_path):
    path = tmp_path / "config.toml"
    config = with_changes(Config(), "run", models=("m1", "m2"), grader_model="judge", limit=100, student_template=str(tmp_path / "t.txt"))
    config = with_changes(config, "jobs", poll_interval=45.0)
    save_config(config, path)
    text = path.read_text()
    assert "None" not in text
    assert "base_url" not in text
    assert "judge_template" not in text
    assert tomllib.loads(text)["run"]["student_template"] == str(tmp_path / "t.txt")
    loaded = load_config(path)
    assert loaded.problems == []
    assert loaded.config == config
    assert list(tmp_path.iterdir()) == [path]


def test_unknown_key_suggests_name(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[run]\nseed = 3\ngrader_modle = "x"\n')
    loaded = load_config(path)
    assert [str(p) for p in loaded.problems] == [f"{path}:3: run.grader_modle: unknown key; did you mean 'grader_model'?"]
    assert loaded.config == with_changes(Config(), "run", seed=3)


def test_wrong_types_named_with_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[jobs]\npoll_interval = "fast"\n\n[run]\nlimit = 0\nmodels = "one"\n')
    problems = [str(p) for p in load_config(path).problems]
    assert problems == [
        f"{path}:2: jobs.poll_interval: expected a number, got 'fast'",
        f"{path}:6: run.models: expected a list of strings, got 'one'",
        f"{path}:5: run.limit: must be at least 1, got 0",
    ]


def test_not_toml_names_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[run]\nseed = = 1\n")
    (problem,) = load_config(path).problems
    assert problem.line == 2
    assert str(problem).startswith(f"{path}:2: not valid TOML")


def test_empty_and_nul_files_reported(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("  \n")
    loaded = load_config(path)
    assert loaded.exists is True
    assert [str(p) for p in loaded.problems] == [f"{path}: the file is empty; delete it to start from the defaults"]
    path.write_bytes(b"\x00" * 64)
    assert [str(p) for p in load_config(path).problems] == [f"{path}:1: the file contains NUL bytes; it is not a TOML text file"]


def test_unknown_provider_rejected(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[provider]\nname = "openai"\n')
    assert [str(p) for p in load_config(path).problems] == [f"{path}:2: provider.name: must be one of together, mock, got 'openai'"]


def test_line_found_inside_its_section(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[ui]\ntheme = "x"\n\n[run]\ntheme = 1\n')
    assert [str(p) for p in load_config(path).problems] == [f"{path}:5: run.theme: unknown key; known: models, grader_model, dataset, limit, seed, max_tokens, temperature, judge_max_tokens, student_template, judge_template"]


def test_bad_values_fall_back_one_by_one(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[run]\nlimit = 10\ntemperature = 7\n\n[provider]\nname = "mock"\n')
    loaded = load_config(path)
    assert [str(p) for p in loaded.problems] == [f"{path}:3: run.temperature: must be between 0 and 2, got 7.0"]
    assert loaded.config.run.limit == 10
    assert loaded.config.run.temperature == 0.0
    assert loaded.config.provider.name == "mock"


def test_saving_over_broken_file_keeps_copy(tmp_path):
    path = tmp_path / "config.toml"
    original = '[run]\nlimit = 10\nsede = 42\n'
    path.write_text(original)
    backup = save_config(load_config(path).config, path)
    assert backup is not None
    assert backup.read_text() == original
    assert load_config(path).problems == []
    assert load_config(path).config.run.limit == 10
    assert save_config(load_config(path).config, path) is None

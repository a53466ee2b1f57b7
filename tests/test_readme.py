"""The README stays true: its two commands, every setting, every command."""

from __future__ import annotations

import re

import click

from app.cli import cli
from app.settings import REPO_ROOT, SETTINGS

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make run", "make test"]
    assert README.index("```bash") < README.index("\n## ")


def test_every_setting_is_documented():
    for setting in SETTINGS:
        assert f"`BEDSIDE_{setting.name}`" in README, setting.name


def command_paths(group: click.Group, prefix: str = "bedside"):
    """Yield 'bedside x y' for every command and subcommand Bedside defines."""
    context = click.Context(group)
    for name in group.list_commands(context):
        if name in {"run", "routes", "shell"} and prefix == "bedside":
            continue  # Flask's own commands
        command = group.get_command(context, name)
        yield f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from command_paths(command, f"{prefix} {name}")


def test_every_command_is_documented():
    for path in command_paths(cli):
        assert path in README, path


def test_ci_calls_the_readme_test_command():
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text()


def test_every_command_has_help_with_an_example():
    from click.testing import CliRunner

    runner = CliRunner()
    for path in command_paths(cli):
        result = runner.invoke(cli, [*path.split()[1:], "--help"])
        assert result.exit_code == 0, path
        assert "Example" in result.output, f"{path} --help shows no example"

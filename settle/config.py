"""Reading configuration files (claims, plans, policies): TOML, with errors that name the file."""

from __future__ import annotations

from pathlib import Path

from settle.errors import ConfigError


def load_toml(path: str, what: str) -> dict:
    """A TOML document, or an input error that names the file and the line."""
    import tomllib  # here: a check without a policy file reads none

    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"{what} {path} does not exist") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{what} {path} is not UTF-8 text") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{what} {path} is not valid TOML: {error}") from error

"""stepup-bot: the campaign's domain, and the front door that runs it."""

from importlib.metadata import version

# The one version is in pyproject.toml; the installed package's metadata carries it here.
__version__ = version("stepup-bot")

"""The errors of :mod:`kb.models` (messages are Dutch and meant for the user)."""

from __future__ import annotations

from kb.errors import KbError


class ModelError(KbError):
    """Base class of the errors of the model package (messages are Dutch and meant for the user)."""


class ModelInstallError(ModelError):
    """Installing a model failed; nothing half-installed is left behind."""


class ModelNotInstalledError(ModelError):
    """A registered model was asked for but is not installed."""


class UnsafeModelError(ModelError):
    """A model folder would run code from the folder (remote code); it is refused."""

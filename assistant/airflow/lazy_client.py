"""Import apache-airflow-client without paying for all of it.

The generated package's ``__init__`` modules import every API class and ~700 pydantic models
(~0.75 s), while a one-shot command uses five APIs. :func:`load` installs the three package
modules (``airflow_client.client``, ``.api`` and ``.models``) as lazy modules whose attributes
are imported on first use, using the ``from X import Y`` lines of their own ``__init__`` as the
map. Submodules then import only what they need. Nothing of the library is changed on disk.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import types
from pathlib import Path

_IMPORT_LINE = re.compile(r"^from (airflow_client\.client[\w.]*) import (\w+)(?: as (\w+))?\s*$", re.M)
_LAZY_PACKAGES = ("airflow_client.client", "airflow_client.client.api", "airflow_client.client.models")


def _lazy_package(name: str, directory: Path) -> types.ModuleType:
    init = directory / "__init__.py"
    source = init.read_text(encoding="utf-8")
    exports = {(alias or attr): (module, attr) for module, attr, alias in _IMPORT_LINE.findall(source)}
    module = types.ModuleType(name)
    module.__path__ = [str(directory)]
    module.__file__ = str(init)
    module.__package__ = name
    version = re.search(r'^__version__ = "([^"]+)"', source, re.M)
    if version:
        module.__version__ = version.group(1)  # type: ignore[attr-defined]

    def __getattr__(attr: str) -> object:
        target = exports.get(attr)
        if target is None:
            try:
                return importlib.import_module(f"{name}.{attr}")
            except ModuleNotFoundError:
                raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None
        value = getattr(importlib.import_module(target[0]), target[1])
        setattr(module, attr, value)
        return value

    module.__getattr__ = __getattr__  # type: ignore[attr-defined]
    return module


def load() -> types.ModuleType:
    """Return ``airflow_client.client``, installed lazily if it was not imported yet."""
    if "airflow_client.client" in sys.modules:
        return sys.modules["airflow_client.client"]
    spec = importlib.util.find_spec("airflow_client")
    if spec is None or not spec.submodule_search_locations:
        from assistant.errors import ConfigError

        raise ConfigError(
            "apache-airflow-client is not installed", "run `make install` (or pip install -e .)"
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "client"
    importlib.import_module("airflow_client")
    for name in _LAZY_PACKAGES:
        sub = name.removeprefix("airflow_client.client").strip(".")
        sys.modules[name] = _lazy_package(name, root / sub if sub else root)
    sys.modules["airflow_client"].client = sys.modules["airflow_client.client"]  # type: ignore[attr-defined]
    sys.modules["airflow_client.client"].api = sys.modules["airflow_client.client.api"]  # type: ignore[attr-defined]
    sys.modules["airflow_client.client"].models = sys.modules["airflow_client.client.models"]  # type: ignore[attr-defined]
    return sys.modules["airflow_client.client"]

"""Load a script from tools/ as a module, for the tests of that tool."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_tool(name: str, module_name: str | None = None):
    """Import ``tools/<name>.py``; registered in sys.modules (dataclasses look it up there)."""
    module_name = module_name or f"{name}_tool"
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module

"""Stop `make setup` early, with a clear message, on a Python the course's pins do not cover."""

import sys

SUPPORTED = ((3, 11), (3, 12), (3, 13))

found = sys.version_info[:2]
if found not in SUPPORTED:
    names = ", ".join(f"{a}.{b}" for a, b in SUPPORTED)
    sys.exit(
        f"the course needs Python {names}; {sys.executable} is {sys.version.split()[0]}. "
        f"Install one of those and run, for example,  make PYTHON=python3.12 lab"
    )
print(f"Python {sys.version.split()[0]} ({sys.executable})")

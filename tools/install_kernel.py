"""Install the course's Jupyter kernel spec into the active environment (.venv).

The kernel carries the environment every lesson needs to repeat exactly: a fixed
PYTHONHASHSEED (gensim hashes words with Python's hash) and quiet, oneDNN-free TensorFlow.
It replaces the environment's default "python3" spec, so nbval, `make lab` and
`jupyter nbconvert` all start the same kernel without any notebook naming it specially.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from course_utils import _ENV_DEFAULTS, HASH_SEED  # noqa: E402

spec_dir = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3"
spec_dir.mkdir(parents=True, exist_ok=True)
spec = {
    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
    "display_name": "Python 3 (course)",
    "language": "python",
    # Inline figures even when the shell that started Jupyter exported a headless backend.
    "env": {
        "PYTHONHASHSEED": HASH_SEED,
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        **_ENV_DEFAULTS,
    },
    "metadata": {"debugger": True},
}
(spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
print(f"kernel 'python3' (Python 3 (course)) installed with env {spec['env']}")

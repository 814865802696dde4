"""``python -m callax.keras_compat script.py [args]``: run a script with callax as ``keras``.

Installs callax as ``keras`` (``callax.install_as_keras()``), then runs the script as
``__main__`` with ``sys.argv`` set as if it had been started directly.
``python -m callax.keras_compat -m package.module [args]`` runs a module instead.
"""

from __future__ import annotations

import os
import runpy
import sys

from callax.keras_compat import install_as_keras

USAGE = "usage: python -m callax.keras_compat (script.py | -m module) [args ...]"


def main(argv: list[str]) -> None:
    """Installs callax as keras and runs ``argv`` (a script path or ``-m module``)."""
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE + "\n\n" + (__doc__ or "").strip())
        raise SystemExit(0 if argv else 2)
    install_as_keras()
    if argv[0] == "-m":
        if len(argv) < 2:
            print(USAGE, file=sys.stderr)
            raise SystemExit(2)
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = list(argv)
        sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))  # as `python script.py` does
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])

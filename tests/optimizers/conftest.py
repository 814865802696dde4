"""Makes the shared problem in ``optimizer_cases.py`` importable under pytest's
importlib import mode (which puts no test folder on ``sys.path``)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

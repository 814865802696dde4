"""callax.install_as_keras(): `import keras` gives callax (checked in subprocesses)."""

import os
import subprocess
import sys

import pytest
from compat_subprocess import ROOT, run_as_keras

from callax.keras_compat import keras_compatible_version


def test_version_is_keras_3_and_says_callax():
    from packaging.version import Version

    import callax
    from callax.package_version import KERAS_API_VERSION, __version__

    v = keras_compatible_version()
    assert v == f"{KERAS_API_VERSION}+callax.{__version__}"
    parsed = Version(v)
    assert parsed.major == 3 and parsed.local == f"callax.{__version__}"
    assert parsed >= Version("3.8.0")  # KerasHub's feature check
    assert callax.version() == callax.__version__ == __version__  # callax's own stays


def test_import_keras_gives_callax():
    out = run_as_keras(
        """
        import callax
        import keras
        import keras.layers
        from keras import ops, layers
        from keras.layers import Dense
        import keras.utils.legacy
        import keras.config
        assert keras.Model is callax.Model and Dense is callax.layers.Dense
        assert keras.layers is callax.layers and ops is callax.ops
        assert keras.utils is callax.utils and keras.utils.legacy is callax.utils.legacy
        assert keras.config.backend() == "jax"
        assert callax.__version__ == "0.2.0" and keras.__version__ != callax.__version__
        assert keras.version() == keras.__version__
        assert callax.install_as_keras() is keras  # idempotent
        assert keras.__file__ == callax.__file__
        assert hasattr(keras, "applications") and not hasattr(keras, "no_such_thing")
        import importlib.util
        assert importlib.util.find_spec("keras").name == "keras"  # after import, too
        assert importlib.util.find_spec("keras.no_such_module") is None
        try:
            import keras.no_such_module
        except ModuleNotFoundError as e:
            assert str(e) == "No module named 'keras.no_such_module'", e
        model = keras.Sequential([keras.layers.Dense(2)])
        print(model(ops.ones((1, 3))).shape, keras.__version__)
        """
    )
    assert out.stdout.split() == ["(1,", "2)", keras_compatible_version()]


def test_refuses_when_keras_is_already_imported_and_uninstall_undoes():
    run_as_keras(
        """
        import importlib.util, sys, types
        import callax
        from callax import keras_compat
        real = types.ModuleType("keras")  # stands for the real Keras, imported first
        real.__file__ = "/site-packages/keras/__init__.py"
        sys.modules["keras"] = real
        try:
            callax.install_as_keras()
        except RuntimeError as e:
            assert "the real Keras is already imported" in str(e), e
            assert "'/site-packages/keras/__init__.py'" in str(e), e
            assert "python -m callax.keras_compat" in str(e), e
        else:
            raise AssertionError("install_as_keras did not refuse")
        assert sys.modules["keras"] is real and not keras_compat.is_installed()

        del sys.modules["keras"]
        fake = callax.install_as_keras()
        import keras, keras.layers
        assert keras is fake and keras.Model is callax.Model and keras_compat.is_installed()
        keras_compat.uninstall()
        assert not keras_compat.is_installed()
        assert not [n for n in sys.modules if n == "keras" or n.startswith("keras.")]
        spec = importlib.util.find_spec("keras")  # the real package is found again
        assert spec is None or "callax" not in (spec.origin or ""), spec
        keras_compat.uninstall()  # a second undo does nothing
        """,
        install=False,
    )


@pytest.mark.parametrize("how", ["script", "module"])
def test_cli_runs_a_script_with_callax_as_keras(tmp_path, how):
    script = tmp_path / "train.py"
    script.write_text(
        "import sys\nimport keras\nimport callax\n"
        "print(keras.Model is callax.Model, keras.version(), sys.argv[1:], __name__)\n"
    )
    env = {**os.environ, "PYTHONPATH": ROOT}
    env.pop("KERAS_BACKEND", None)
    proc = subprocess.run(
        [sys.executable, "-m", "callax.keras_compat",
         *([str(script)] if how == "script" else ["-m", "train"]), "--epochs", "2"],
        capture_output=True, text=True, timeout=60, env=env, cwd=str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [
        "True", keras_compatible_version(), "['--epochs',", "'2']", "__main__"
    ]  # fmt: skip


def test_cli_usage(capsys):
    from callax.keras_compat.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2 and capsys.readouterr().out.startswith("usage:")

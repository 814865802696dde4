"""``Trainer``: the training API mixed into ``Model`` (Keras 3's, on the JAX engine).

``compile`` records the optimizer, loss and metrics; ``fit``/``evaluate``/``predict``
(and the ``*_on_batch`` methods) each run one
:class:`~callax.training.loop.TrainingLoop`, which runs the pure step methods
below through :mod:`callax.training.steps` (one ``jax.jit`` per input signature,
state donated, ``steps_per_execution`` steps per dispatch). The state lives in a
:class:`~callax.training.state.TrainingState` during a loop and goes back into
the variables when something needs them.

Override points, as in Keras 3 on JAX:

- ``compute_loss(x, y, y_pred, sample_weight, training)`` -> scalar;
- ``compute_metrics(x, y, y_pred, sample_weight)`` -> logs dict;
- ``train_step(self, state, data) -> (logs, state)`` with
  ``state = (trainable, non_trainable, optimizer, metrics)`` variable values;
  ``test_step(state, data)`` with ``(trainable, non_trainable, metrics)``;
  ``predict_step(state, data) -> (outputs, non_trainable)``.

Example:
    >>> import numpy as np, callax
    >>> class Linear(callax.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.dense = callax.layers.Dense(1)
    ...     def call(self, x):
    ...         return self.dense(x)
    >>> model = Linear()
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x = np.random.rand(64, 3).astype("float32")
    >>> history = model.fit(x, x.sum(1, keepdims=True), epochs=2, verbose=0)
    >>> sorted(history.history), len(history.history["loss"])
    (['loss'], 2)
"""

from __future__ import annotations

import inspect
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax import losses as losses_module
from callax import metrics as metrics_module
from callax import optimizers
from callax.core.pure_call import abstract_scope
from callax.core.stateless_scope import StatelessScope
from callax.core.structure import structure_version
from callax.training import compile_utils
from callax.training.data_adapters import unpack_x_y_sample_weight
from callax.training.loop import TrainingLoop, holds_text
from callax.training.state import TrainingState
from callax.training.steps import StepFunctions


class _Compiled:
    """What ``compile`` set up (kept off the model's ``__dict__`` walk)."""

    def __init__(self, model: Any):
        self.loss_tracker: Any = None
        self.compile_loss: Any = None
        self.compile_metrics: Any = None
        self.steps = StepFunctions(model)
        self.losses_override: list | None = None
        self.config: dict = {}
        # (structure counter, {input signature: output ShapeDtypeStructs}) of the
        # built model (see Trainer._symbolic_build).
        self.output_specs: tuple[int, dict] = (-1, {})


def _is_metric(obj: Any) -> bool:
    return all(
        hasattr(obj, a) for a in ("update_state", "result", "reset_state", "variables")
    ) and (not callable(getattr(obj, "call", None)) or hasattr(obj, "stateless_update_state"))


def _revive_serialized(value: Any, deserialize: Any) -> Any:
    """Serialized objects (``{"class_name", "config", ...}``) inside a compile
    argument, deserialized; names, functions and per-output structures kept."""
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        return deserialize(value)
    if isinstance(value, dict):
        return {k: _revive_serialized(v, deserialize) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_revive_serialized(v, deserialize) for v in value)
    return value


_SIGS: dict[type, tuple[int, int]] = {}


def _positional_counts(cls: type) -> tuple[int, int]:
    """(required, total) positional parameters of ``cls.call`` besides training/mask."""
    counts = _SIGS.get(cls)
    if counts is None:
        params = list(inspect.signature(cls.call).parameters.values())[1:]
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        pos = [p for p in params if p.kind in kinds and p.name not in ("training", "mask")]
        required = [p for p in pos if p.default is inspect.Parameter.empty]
        counts = _SIGS[cls] = (len(required), len(pos))
    return counts


class Trainer:
    """Mixin giving ``Model`` ``compile``, ``fit``, ``evaluate``, ``predict`` and the
    ``*_on_batch`` methods."""

    def __init__(self):
        d = self.__dict__
        d["compiled"] = False
        d["optimizer"] = None
        d["loss"] = None
        d["stop_training"] = False
        d["history"] = None
        d["_initial_epoch"] = None
        d["_trainer"] = _Compiled(self)
        d["_training_state"] = TrainingState(self)
        d["_run_eagerly"] = False
        d["_jit_compile"] = True
        d["_steps_per_execution"] = 1

    # ------------------------------------------------------------- compile
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        loss_weights: Any = None,
        metrics: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: Any = "auto",
        auto_scale_loss: bool = True,
    ) -> None:
        """Configures the model for training.

        Args:
            optimizer: name, config or ``callax.optimizers.Optimizer`` instance.
            loss: name, function or ``Loss``; a list or dict (by output name) for
                several outputs. ``None`` when ``compute_loss`` is overridden or
                the model adds its losses with ``add_loss``.
            loss_weights: coefficients of the per-output losses (list or dict).
            metrics: names, functions or ``Metric`` objects, evaluated without
                sample weights; a list of lists or a dict for several outputs.
            weighted_metrics: the same, evaluated with sample/class weights.
            run_eagerly: run the steps op by op (no ``jax.jit``), for debugging.
            steps_per_execution: batches per compiled dispatch (``jax.lax.scan``).
            jit_compile: ``"auto"``/``True`` compile the steps; ``False`` = eager.
            auto_scale_loss: wrap the optimizer in a ``LossScaleOptimizer`` when the
                model's policy is ``mixed_float16`` (default True; loss scaling is the
                optimizer's business).
        """
        if self._training_state.held_elsewhere():
            raise RuntimeError(
                f"{self.name}.compile: a training loop is running on another thread; "
                "compiling now would swap its optimizer, loss and metrics mid-step. "
                "Compile before starting it, or after it ends."
            )
        self._training_state.refresh()
        if steps_per_execution is None or int(steps_per_execution) < 1:
            raise ValueError(
                f"{self.name}.compile: steps_per_execution must be an integer >= 1; "
                f"received steps_per_execution={steps_per_execution!r}."
            )
        d = self.__dict__
        optimizer = optimizers.get(optimizer) if optimizer is not None else None
        if (
            auto_scale_loss
            and optimizer is not None
            and self.dtype_policy.name == "mixed_float16"
            and not isinstance(optimizer, optimizers.LossScaleOptimizer)
        ):  # float16 gradients underflow without it (as Keras)
            optimizer = optimizers.LossScaleOptimizer(optimizer)
        d["optimizer"] = optimizer
        d["loss"] = loss
        compiled = _Compiled(self)
        compiled.loss_tracker = metrics_module.Mean(name="loss")
        output_names = getattr(self, "output_names", None)
        if loss is not None:
            compiled.compile_loss = compile_utils.CompileLoss(loss, loss_weights, output_names)
        if metrics is not None or weighted_metrics is not None:
            compiled.compile_metrics = compile_utils.CompileMetrics(
                metrics, weighted_metrics, output_names
            )
        compiled.config = {
            "optimizer": optimizer, "loss": loss, "loss_weights": loss_weights,
            "metrics": metrics, "weighted_metrics": weighted_metrics,
            "run_eagerly": run_eagerly, "steps_per_execution": steps_per_execution,
            "jit_compile": jit_compile, "auto_scale_loss": auto_scale_loss,
        }  # fmt: skip
        d["_trainer"] = compiled
        d["_run_eagerly"] = bool(run_eagerly)
        d["_jit_compile"] = jit_compile in ("auto", True, None)
        d["_steps_per_execution"] = int(steps_per_execution)
        d["compiled"] = True
        self._training_state.refresh()

    @property
    def run_eagerly(self) -> bool:
        return self._run_eagerly

    @run_eagerly.setter
    def run_eagerly(self, value: bool) -> None:
        self.__dict__["_run_eagerly"] = bool(value)

    @property
    def jit_compile(self) -> bool:
        # String inputs (host text layers such as TextVectorization) keep the steps
        # eager, as Keras does for layers with supports_jit=False: the last loop's
        # step functions know whether its inputs held strings.
        return self._jit_compile and not self._run_eagerly and not self._trainer.steps.text_inputs

    @jit_compile.setter
    def jit_compile(self, value: bool) -> None:
        self.__dict__["_jit_compile"] = bool(value)

    @property
    def steps_per_execution(self) -> int:
        return self._steps_per_execution

    @steps_per_execution.setter
    def steps_per_execution(self, value: int) -> None:
        self.__dict__["_steps_per_execution"] = max(1, int(value))

    @property
    def compiled_loss(self) -> Any:
        return self._trainer.compile_loss

    @property
    def compiled_metrics(self) -> Any:
        return self._trainer.compile_metrics

    def get_compile_config(self) -> dict:
        """The arguments ``compile`` received (serialized where possible)."""
        if not self.compiled:
            return {}
        config = dict(self._trainer.config)
        try:
            if self.optimizer is not None:
                config["optimizer"] = optimizers.serialize(self.optimizer)
        except (ValueError, TypeError):
            pass  # keep what compile received
        return config

    def compile_from_config(self, config: dict) -> None:
        """Compiles with a config from :meth:`get_compile_config`."""
        config = dict(config)
        # a saved Loss/Metric object is a {"class_name", "config"} dict, which compile
        # would read as a per-output mapping: revive it first, as Keras does
        tables = (("loss", losses_module), ("metrics", metrics_module),
                  ("weighted_metrics", metrics_module))  # fmt: skip
        for key, table in tables:
            if config.get(key) is not None:
                config[key] = _revive_serialized(config[key], table.deserialize)
        self.compile(**config)
        if (
            self.optimizer is not None
            and self.built
            and not getattr(self.optimizer, "built", False)
        ):
            self.optimizer.build(self.trainable_variables)

    # -------------------------------------------------------------- metrics
    @property
    def metrics(self) -> list[Any]:
        """Loss tracker, compiled metrics, per-output loss trackers, then metric
        objects assigned as attributes of the model or its layers."""
        out: list[Any] = []
        compiled = self._trainer
        if self.compiled:
            out.append(compiled.loss_tracker)
            if compiled.compile_metrics is not None:
                out.append(compiled.compile_metrics)
            if compiled.compile_loss is not None:
                out.extend(compiled.compile_loss.metrics)
        seen = {id(m) for m in out}
        for layer in self._flatten_layers():
            if layer is not self and isinstance(layer, Trainer):
                continue
            for value in layer.__dict__.values():
                items = value if isinstance(value, (list, tuple)) else [value]
                for item in items:
                    if _is_metric(item) and not hasattr(item, "_flatten_layers"):
                        if id(item) not in seen:
                            seen.add(id(item))
                            out.append(item)
        return out

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    @property
    def metrics_variables(self) -> list[Any]:
        return [v for m in self.metrics for v in m.variables]

    def reset_metrics(self) -> None:
        self._training_state.sync()
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self) -> dict:
        """Every metric's result (compiled metrics flattened into the dict)."""
        out: dict = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):
                out.update(result)
            else:
                out[metric.name] = result
        return out

    # ------------------------------------------------------- loss & steps
    def _model_args(self, x: Any) -> tuple:
        """A tuple ``x`` fills ``call``'s positional parameters when it takes several."""
        if isinstance(x, (tuple, list)):
            required, total = _positional_counts(type(self))
            if required > 1 and required <= len(x) <= total:
                return tuple(x)
        return (x,)

    def compute_loss(
        self, x: Any = None, y: Any = None, y_pred: Any = None, sample_weight: Any = None,
        training: bool = True,
    ) -> Any:  # fmt: skip
        """The compiled loss plus the model's added losses (``add_loss``, weight
        regularization) as one scalar. Override to customise training."""
        del x, training
        losses = []
        compile_loss = self._trainer.compile_loss
        if compile_loss is not None:
            value = compile_loss(y, y_pred, sample_weight)
            if value is not None:
                losses.append(value)
        extra = self._trainer.losses_override
        if extra is None:
            extra = self.losses
        for value in extra:
            losses.append(jnp.sum(jnp.asarray(value, jnp.float32)))
        if not losses:
            return jnp.zeros((), jnp.float32)
        total = losses[0]
        for value in losses[1:]:
            total = total + value
        return total

    def _compute_loss(self, x, y, y_pred, sample_weight=None, training=True):
        if "training" in inspect.signature(self.compute_loss).parameters:
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def stateless_compute_loss(
        self, trainable_variables, non_trainable_variables, metrics_variables,
        x=None, y=None, y_pred=None, sample_weight=None, training=True,
    ):  # fmt: skip
        """``compute_loss`` as a pure function of the variable values; returns
        ``(loss, (trainable, non_trainable, metrics))``."""
        ts = self._training_state
        groups = [ts.variables(g) for g in ("trainable", "non_trainable", "metrics")]
        values = (trainable_variables, non_trainable_variables, metrics_variables)
        mapping = [pair for vs, vals in zip(groups, values) for pair in zip(vs, vals)]
        with StatelessScope(mapping) as scope:
            loss = self._compute_loss(x, y, y_pred, sample_weight, training)
        new = [[scope.get_current_value(v) for v in vs] for vs in groups[1:]]
        return loss, (trainable_variables, new[0], new[1])

    def compute_loss_and_updates(
        self, trainable_variables, non_trainable_variables, metrics_variables, x, y,
        sample_weight, training=False, optimizer_variables=None,
    ):  # fmt: skip
        """Forward pass and loss as a pure function (for ``jax.value_and_grad``).

        Returns ``(loss, (unscaled_loss, y_pred, non_trainable, metrics))``.
        """
        y_pred, non_trainable_variables, losses = self.stateless_call(
            trainable_variables, non_trainable_variables, *self._model_args(x),
            return_losses=True, training=training,
        )  # fmt: skip
        compiled = self._trainer
        compiled.losses_override = losses
        try:
            loss, (_, non_trainable_variables, metrics_variables) = self.stateless_compute_loss(
                trainable_variables, non_trainable_variables, metrics_variables,
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training,
            )  # fmt: skip
        finally:
            compiled.losses_override = None
        scaled = loss
        scale_loss = getattr(self.optimizer, "scale_loss", None)
        if training and scale_loss is not None and optimizer_variables is not None:
            # Loss scaling (LossScaleOptimizer, loss_scale_factor) reads optimizer state.
            with StatelessScope(list(zip(self.optimizer.variables, optimizer_variables))):
                scaled = scale_loss(loss)
        return scaled, (loss, y_pred, non_trainable_variables, metrics_variables)

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> dict:
        """Updates the compiled metrics and returns every metric's result."""
        del x
        if self._trainer.compile_metrics is not None:
            self._trainer.compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def _update_metrics_variables(self, metrics_variables, loss, x, y, y_pred, sample_weight):
        own = self._training_state.variables("metrics")
        with StatelessScope(list(zip(own, metrics_variables))) as scope:
            batch = next(leaf for leaf in jax.tree_util.tree_leaves(x) if leaf is not None)
            self._trainer.loss_tracker.update_state(loss, sample_weight=batch.shape[0])
            logs = self.compute_metrics(x, y, y_pred, sample_weight)
        return logs, [scope.get_current_value(v) for v in own]

    def train_step(self, state: tuple, data: Any) -> tuple[dict, tuple]:
        """One optimisation step as a pure function: ``(logs, new_state)``."""
        trainable, non_trainable, optimizer_vars, metrics_vars = state
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
        (_, aux), grads = grad_fn(
            trainable, non_trainable, metrics_vars, x, y, sample_weight, training=True,
            optimizer_variables=optimizer_vars,
        )  # fmt: skip
        loss, y_pred, non_trainable, metrics_vars = aux
        trainable, optimizer_vars = self.optimizer.stateless_apply(optimizer_vars, grads, trainable)
        logs, metrics_vars = self._update_metrics_variables(
            metrics_vars, loss, x, y, y_pred, sample_weight
        )
        return logs, (trainable, non_trainable, optimizer_vars, metrics_vars)

    def test_step(self, state: tuple, data: Any) -> tuple[dict, tuple]:
        """One evaluation step as a pure function: ``(logs, new_state)``."""
        trainable, non_trainable, metrics_vars = state
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        _, (loss, y_pred, non_trainable, metrics_vars) = self.compute_loss_and_updates(
            trainable, non_trainable, metrics_vars, x, y, sample_weight, training=False
        )
        logs, metrics_vars = self._update_metrics_variables(
            metrics_vars, loss, x, y, y_pred, sample_weight
        )
        return logs, (trainable, non_trainable, metrics_vars)

    def predict_step(self, state: tuple, data: Any) -> tuple[Any, list]:
        """One prediction step: ``(outputs, new_non_trainable)``."""
        trainable, non_trainable = state
        x, _, _ = unpack_x_y_sample_weight(data)
        return self.stateless_call(trainable, non_trainable, *self._model_args(x), training=False)

    # --------------------------------------------------------------- loops
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: Any = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool | str = True,
        class_weight: dict | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: Any = 1,
        *,
        allow_nan: bool = False,
    ) -> Any:
        """Trains the model for ``epochs`` epochs and returns a ``History``.

        Arguments are Keras 3's. Data may be arrays (or dicts/lists/tuples of them;
        a tuple ``x`` fills the positional inputs of a multi-input ``call``), a Python
        generator of ``(x, y[, sample_weight])`` batches, or a ``PyDataset``. Data are
        checked before any step runs; NaN in ``x`` is an error unless ``allow_nan``.

        Threads: ``predict``, ``evaluate``, ``model(x)`` and ``callax.jit(model)`` may
        run on other threads while ``fit`` runs, and ``fit`` is unaffected by them.
        They see the weights as of ``fit``'s last sync (the end of an epoch, or a
        callback reading ``self.model``): ``predict``, ``evaluate`` and ``callax.jit``
        read them once per call as one set, never half-written; an eager
        ``model(x)`` reads each layer's weights when that layer runs. A second
        ``fit`` (or ``train_on_batch``, ``compile``) on the same model from another
        thread raises ``RuntimeError`` instead of interleaving updates.
        """
        return TrainingLoop(self, "fit").fit(
            x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
            shuffle, class_weight, sample_weight, initial_epoch, steps_per_epoch,
            validation_steps, validation_batch_size, validation_freq, allow_nan=allow_nan,
        )  # fmt: skip

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: Any = None,
        return_dict: bool = False,
        *,
        allow_nan: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Returns the loss and metrics on the data: a scalar (loss only), a list in
        ``metrics_names`` order, or a dict with ``return_dict=True``.

        Threads: ``evaluate`` may run while ``fit`` (or another ``evaluate``) runs on
        another thread. It then reads the weights once, as one consistent set, keeps
        its metric values private, and returns its own result; the metric objects
        keep the running loop's values.
        """
        if kwargs:
            raise TypeError(f"evaluate() got unexpected keyword arguments {sorted(kwargs)}.")
        return TrainingLoop(self, "evaluate").evaluate(
            x, y, batch_size, verbose, sample_weight, steps, callbacks, return_dict,
            allow_nan=allow_nan,
        )  # fmt: skip

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: Any = None,
    ) -> Any:
        """The model's outputs for ``x`` as numpy arrays (same structure as ``call``'s).

        Threads: any number of ``predict`` calls may run at once on one model, also
        while ``fit`` runs on another thread. Each reads the weights once, as one
        consistent set (during ``fit``: as of its last sync), and donates nothing, so
        results equal serial ones and no other call's arrays are freed.
        """
        return TrainingLoop(self, "predict").predict(x, batch_size, verbose, steps, callbacks)

    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: dict | None = None,
        return_dict: bool = False,
    ) -> Any:
        """One optimisation step on one batch; returns the (running) loss and metrics
        like ``evaluate`` does. Metrics accumulate until ``reset_metrics()``."""
        return TrainingLoop(self, "train_on_batch").train_on_batch(
            x, y, sample_weight, class_weight, return_dict
        )

    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
    ) -> Any:
        """Evaluates one batch (metrics accumulate until ``reset_metrics()``)."""
        return TrainingLoop(self, "test_on_batch").test_on_batch(x, y, sample_weight, return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        """The outputs for one batch, as numpy arrays."""
        return TrainingLoop(self, "predict_on_batch").predict_on_batch(x)

    # ------------------------------------------------------------ plumbing
    def _sync_training_state(self) -> None:
        """Writes held training values back into the variables (callbacks call
        this through ``Callback.model``)."""
        self._training_state.sync()

    def _assert_compiled(self, method: str) -> None:
        if not self.compiled:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': you must call `compile()` before "
                f"`{method}()`, e.g. model.compile(optimizer='adam', loss='mse'); "
                "received an uncompiled model."
            )

    def _uses_default(self, *methods: str) -> bool:
        """Whether the model's class keeps ``Trainer``'s own ``methods`` (a model
        with its own ``train_step`` or ``compute_loss`` may train without ``y``)."""
        cls = type(self)
        return all(getattr(cls, m) is getattr(Trainer, m) for m in methods)

    def _symbolic_build(
        self, batch: Any, caller: str, y_full: Any = None, checks: bool = True
    ) -> None:
        """Builds the model, the compiled loss/metrics and the optimizer from one
        batch's shapes (nothing is computed), then checks the targets. With
        ``checks=False`` (the ``*_on_batch`` methods) nothing runs once all is built."""
        x, y, sample_weight = unpack_x_y_sample_weight(batch)
        compiled = self._trainer
        if (
            not checks
            and self.built
            and (
                not self.compiled
                or (
                    (compiled.compile_loss is None or compiled.compile_loss.built)
                    and (compiled.compile_metrics is None or compiled.compile_metrics.built)
                    and (self.optimizer is None or getattr(self.optimizer, "built", False))
                )
            )
        ):
            return
        # variables may have changed since the last loop (layers frozen, built)
        self._training_state.refresh()
        args = self._model_args(x)
        strings = holds_text(args)
        specs = (
            None
            if strings
            else jax.tree_util.tree_map(
                lambda a: jax.ShapeDtypeStruct(
                    np.shape(a),
                    jax.dtypes.canonicalize_dtype(np.asarray(a).dtype)
                    if not hasattr(a, "dtype")
                    else jax.dtypes.canonicalize_dtype(a.dtype),
                ),
                args,
            )
        )
        was_built = self.built
        # The output shapes for input shapes the model was already traced on, while
        # no layer anywhere changed since (the global structure counter): predict and
        # evaluate skip re-tracing the model on every call (~1 ms of host time).
        version, seen = compiled.output_specs
        key = None
        if specs is not None:
            flat, tree = jax.tree_util.tree_flatten(specs)
            key = (tree, tuple((s.shape, s.dtype) for s in flat))
        out = seen.get(key) if key is not None and version == structure_version[0] else None
        cached = out is not None
        try:
            if strings:  # host text layers: strings cannot be traced, build on the batch
                out = self(*args, training=False)
                out = jax.tree_util.tree_map(lambda o: jax.ShapeDtypeStruct(o.shape, o.dtype), out)
            elif out is None:
                with abstract_scope():
                    out = jax.eval_shape(lambda *a: self(*a, training=False), *specs)
        except Exception as error:
            if isinstance(error, (ValueError, TypeError)):
                raise
            raise RuntimeError(
                f"{caller}: could not build {type(self).__name__} '{self.name}' from a batch "
                f"of x={jax.tree_util.tree_map(lambda s: tuple(s.shape), specs)}; call the "
                f"model on a batch first. Original error: {error!r}"
            ) from error
        if not cached:
            for v in self.variables:
                v.value  # noqa: B018 — materialize weights created abstractly
            if key is not None:  # as of now (a first trace builds: a new structure)
                if version != structure_version[0]:
                    compiled.output_specs = (structure_version[0], {})
                compiled.output_specs[1][key] = out
        if not was_built:
            self._training_state.refresh()
        self._check_call_outputs(out, caller)
        if not self.compiled or y is None:
            return
        y_pred = jax.tree_util.tree_map(lambda s: np.zeros(s.shape, s.dtype), out)
        changed = False
        if compiled.compile_loss is not None and not compiled.compile_loss.built:
            compiled.compile_loss.build(y, y_pred)
            changed = True
        if compiled.compile_metrics is not None and not compiled.compile_metrics.built:
            losses = compiled.compile_loss.losses if compiled.compile_loss is not None else None
            compiled.compile_metrics.build(y, y_pred, losses)
            flat_true = compiled.compile_metrics
            for i, metric, _, _ in flat_true._entries:
                if not getattr(metric, "built", True):
                    yt = compile_utils.flatten_like(
                        y, flat_true.names, flat_true.kind, "y", broadcast=True
                    )[i]
                    yp = compile_utils.flatten_like(
                        y_pred, flat_true.names, flat_true.kind, "y_pred", False
                    )[i]
                    metric.build(np.shape(yt), np.shape(yp))
            changed = True
        if self.optimizer is not None and not getattr(self.optimizer, "built", False):
            self.optimizer.build(self.trainable_variables)
            changed = True
        if changed:
            self._training_state.refresh()
        if compiled.compile_loss is not None:
            self._check_targets(y if y_full is None else y_full, y_pred, caller)

    def _check_call_outputs(self, out: Any, caller: str) -> None:
        """Outputs the default steps cannot use, named before any step fails on
        them with an unrelated message (``'NoneType' object has no attribute
        'shape'``, ``zero-dimensional arrays cannot be concatenated``). A model
        with its own step may return what it likes."""
        step = {
            "fit": "train_step", "evaluate": "test_step", "predict": "predict_step",
            "train_on_batch": "train_step", "test_on_batch": "test_step",
            "predict_on_batch": "predict_step",
        }.get(caller.split(" ")[0])  # fmt: skip
        if step is None or not self._uses_default(step):
            return
        name = f"{type(self).__name__}.call()"
        leaves = jax.tree_util.tree_leaves(out)
        if not leaves:
            got = "None — missing `return`?" if out is None else f"{out!r}, which holds no arrays."
            raise TypeError(
                f"{caller}: {name} (model '{self.name}') returned {got} {caller} needs the "
                "model's outputs: end `call` with `return outputs`."
            )
        if caller == "predict":
            for leaf in leaves:
                if not np.shape(leaf):
                    raise ValueError(
                        f"predict: {name} (model '{self.name}') returned a scalar "
                        f"({np.dtype(leaf.dtype).name} of shape ()), e.g. a Python float; predict "
                        "joins the outputs of every batch along their first axis, so `call` "
                        "must return arrays with a batch dimension, shape (batch, ...)."
                    )

    def _check_targets(self, y: Any, y_pred: Any, caller: str) -> None:
        """Clear errors for labels that cannot fit the loss, before any step."""
        compile_loss = self._trainer.compile_loss
        flat_true = compile_loss._flat_true(y)
        flat_pred = compile_loss._flat(y_pred, "y_pred")
        for i, loss in enumerate(compile_loss.losses):
            if loss is None or flat_true[i] is None:
                continue
            yt, yp = np.asarray(flat_true[i]), flat_pred[i]
            where = "y" if len(flat_true) == 1 else f"y[{compile_loss.names[i]!r}]"
            name = getattr(getattr(loss, "fn", None), "__name__", None) or loss.name
            kw = getattr(loss, "_fn_kwargs", {})
            if "sparse_categorical" in name:
                axis = kw.get("axis", -1)
                classes = yp.shape[axis]
                if yt.ndim == yp.ndim and yt.shape[-1] == classes and classes > 1:
                    raise ValueError(
                        f"{caller}: {name} expects integer class ids with shape "
                        f"{yp.shape[:-1]} (or a trailing 1) for an output with {classes} "
                        f"classes; {where} looks one-hot. Use categorical_crossentropy for one-hot "
                        f"targets; received {where} of shape {yt.shape}."
                    )
                if yt.size:
                    ignore = kw.get("ignore_class")
                    labels = yt[yt != ignore] if ignore is not None else yt
                    if labels.size and (
                        np.any(labels < 0) or np.any(labels >= classes)
                        or np.any(labels != np.floor(labels))
                    ):  # fmt: skip
                        raise ValueError(
                            f"{caller}: {name} needs integer labels in [0, {classes}) because the "
                            f"model's output has {classes} classes; received {where} with labels "
                            f"from {labels.min()} to {labels.max()}."
                        )
            elif name == "categorical_crossentropy" and yt.ndim == yp.ndim - 1:
                raise ValueError(
                    f"{caller}: categorical_crossentropy expects one-hot targets shaped like the "
                    f"output {tuple(yp.shape)}; for integer class ids use "
                    f"sparse_categorical_crossentropy; received {where} of shape {yt.shape}."
                )


__all__ = ["Trainer"]

"""Callbacks under Keras 3's ``keras.callbacks`` names."""

from callax.callbacks.backup_and_restore import BackupAndRestore
from callax.callbacks.callback import Callback
from callax.callbacks.callback_list import CallbackList
from callax.callbacks.csv_logger import CSVLogger
from callax.callbacks.early_stopping import EarlyStopping
from callax.callbacks.history import History
from callax.callbacks.lambda_callback import LambdaCallback
from callax.callbacks.learning_rate_scheduler import LearningRateScheduler
from callax.callbacks.model_checkpoint import ModelCheckpoint
from callax.callbacks.monitor_callback import MonitorCallback
from callax.callbacks.orbax_checkpoint import OrbaxCheckpoint
from callax.callbacks.progbar_logger import ProgbarLogger
from callax.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from callax.callbacks.remote_monitor import RemoteMonitor
from callax.callbacks.swap_ema_weights import SwapEMAWeights
from callax.callbacks.tensorboard import TensorBoard
from callax.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "Callback", "CallbackList", "CSVLogger", "EarlyStopping", "History", "LambdaCallback",
    "LearningRateScheduler", "MonitorCallback", "ProgbarLogger", "ReduceLROnPlateau",
    "TerminateOnNaN", "BackupAndRestore", "ModelCheckpoint", "RemoteMonitor", "SwapEMAWeights",
    "TensorBoard", "OrbaxCheckpoint",
]  # fmt: skip

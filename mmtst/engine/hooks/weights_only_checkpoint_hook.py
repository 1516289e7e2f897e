"""Runner checkpoints that load with torch's ``weights_only=True``."""
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer

from mmtst.registry import HOOKS

PLAIN_BUFFER = '__mmtst_history_buffer__'


@HOOKS.register_module()
class WeightsOnlyCheckpointHook(Hook):
    """Store the message hub's ``HistoryBuffer``\\ s as plain data.

    mmengine pickles each ``HistoryBuffer`` with its statistics methods
    (``getattr(HistoryBuffer, 'mean')``), which torch's ``weights_only``
    loading rejects, so ``--resume`` fails under torch >= 2.6 unless the
    safety check is turned off. This hook writes the buffers' arrays as
    plain dicts and rebuilds the buffers after loading, before the runner
    restores its message hub. Every mmtst config has this hook
    (``configs/_base_/mmtst_runtime.py``); ``tools/train.py`` adds it to
    configs without it.
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        scalars = checkpoint.get('message_hub', {}).get('log_scalars', {})
        for key, buffer in list(scalars.items()):
            if isinstance(buffer, HistoryBuffer):
                scalars[key] = {
                    PLAIN_BUFFER: True,
                    # plain lists: no numpy class for the unpickler to allow
                    'log_history': buffer._log_history.tolist(),
                    'count_history': buffer._count_history.tolist(),
                    'max_length': int(buffer.max_length),
                }

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        scalars = checkpoint.get('message_hub', {}).get('log_scalars', {})
        for key, value in list(scalars.items()):
            if isinstance(value, dict) and value.get(PLAIN_BUFFER):
                scalars[key] = HistoryBuffer(
                    list(value['log_history']), list(value['count_history']),
                    value['max_length'])

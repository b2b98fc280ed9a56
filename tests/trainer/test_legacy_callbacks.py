"""The core Trainer takes callbacks of both legacy APIs directly (adapted) and refuses the rest."""

import pytest
import torch

from pfd_testing import make_loader, make_model
from pfdtrain import Callback, Trainer
from pfdtrain.compat import callbacks as old_api
from pfdtrain.compat import cnn_callbacks as new_api
from pfdtrain.errors import ConfigurationError


def _trainer(callbacks, max_epochs=3):
    model = make_model()
    return Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), callbacks=callbacks, max_epochs=max_epochs,
                   enable_progress_bar=False)


def test_legacy_callbacks_are_adapted_and_core_ones_kept():
    calls = []
    core_cb = Callback()
    trainer = _trainer([old_api.ProgressPrinter(), new_api.TimingCallback(verbose=False),
                        lambda trainer, metrics: calls.append(dict(metrics)), core_cb])
    assert all(isinstance(cb, Callback) for cb in trainer.callbacks)
    assert core_cb in list(trainer.callbacks)
    trainer.fit(make_loader())
    assert [sorted(m) for m in calls] == [["train_acc", "train_loss"]] * 3


@pytest.mark.parametrize("bad", [3, "early_stopping", old_api.EarlyStopping, object()])
def test_anything_else_is_refused_with_the_adapter_named(bad):
    with pytest.raises(ConfigurationError, match="adapt_callback"):
        _trainer([bad])


def test_old_early_stopping_stops_the_core_run_cleanly(capsys):
    stopper = old_api.EarlyStopping(monitor="train_loss", patience=1, min_delta=10.0)
    ended = []

    class EndProbe(Callback):
        def on_fit_end(self, trainer):
            ended.append(trainer.current_epoch)

    trainer = _trainer([stopper, EndProbe()], max_epochs=5)
    history = trainer.fit(make_loader())
    assert history.num_epochs == 2 and trainer.should_stop and ended == [2]
    assert "Early stopping triggered at epoch 2" in capsys.readouterr().out

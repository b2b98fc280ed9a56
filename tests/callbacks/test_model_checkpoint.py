"""ModelCheckpoint: top-k files, names, bookkeeping, resume, and what a crash leaves behind."""

import os

import pytest
import torch

from pfd_testing import weights_only_roundtrip
from pfdtrain.callbacks import CallbackList, ModelCheckpoint
from pfdtrain.errors import ConfigurationError


def _epochs(values, key="val_loss"):
    return [{"train_loss": 1.0, key: v} for v in values]


def _files(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    ("mode", "scores", "k", "kept"),
    [
        ("min", [0.5, 0.3, 0.4, 0.2], 2, ["epoch=1-val_loss=0.30.pt", "epoch=3-val_loss=0.20.pt"]),
        ("max", [0.5, 0.3, 0.4, 0.6], 2, ["epoch=0-val_loss=0.50.pt", "epoch=3-val_loss=0.60.pt"]),
        ("min", [0.5, 0.3, 0.4, 0.2], 1, ["epoch=3-val_loss=0.20.pt"]),
        ("min", [0.2, 0.3, 0.4, 0.5], 1, ["epoch=0-val_loss=0.20.pt"]),
        ("min", [0.5, 0.3, 0.4, 0.2], -1,
         [f"epoch={e}-val_loss={v}.pt" for e, v in enumerate(["0.50", "0.30", "0.40", "0.20"])]),
        ("min", [0.5, 0.3, 0.4, 0.2], 0, []),
    ],
)
def test_top_k_files_on_disk(make_trainer, tmp_path, mode, scores, k, kept):
    trainer = make_trainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ck", filename="{epoch}-{val_loss:.2f}", monitor="val_loss", mode=mode,
                           save_top_k=k)
    trainer.fit([ckpt], _epochs(scores))
    assert _files(tmp_path / "ck") == sorted(kept)
    assert sorted(p.rsplit("/", 1)[-1] for p in ckpt.best_k_models) == sorted(kept)


def test_best_and_kth_attributes(make_trainer, tmp_path):
    trainer = make_trainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{epoch}", monitor="val_loss", save_top_k=2)
    trainer.fit([ckpt], _epochs([0.5, 0.3, 0.4, 0.2]))
    assert ckpt.best_model_path == str(tmp_path / "epoch=3.pt")
    assert ckpt.best_model_score == 0.2
    assert ckpt.kth_best_model_path == str(tmp_path / "epoch=1.pt")
    assert ckpt.kth_value == 0.3
    assert ckpt.best_k_models == {str(tmp_path / "epoch=1.pt"): 0.3, str(tmp_path / "epoch=3.pt"): 0.2}
    # the kept files hold the state of the epoch they are named after
    assert torch.load(ckpt.best_model_path, weights_only=True)["epoch"] == 3


def test_nan_score_ranks_worst(make_trainer, tmp_path):
    trainer = make_trainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{epoch}", monitor="val_loss", save_top_k=2)
    trainer.fit([ckpt], _epochs([0.5, float("nan"), 0.9]))
    assert _files(tmp_path) == ["epoch=0.pt", "epoch=2.pt"]


def test_without_monitor_keeps_the_latest_k(make_trainer, tmp_path):
    trainer = make_trainer()  # 4 batches per epoch -> step 4(e+1) after epoch e
    ckpt = ModelCheckpoint(dirpath=tmp_path, save_top_k=2)
    trainer.fit([ckpt], [{"train_loss": 1.0}] * 4)
    assert _files(tmp_path) == ["epoch=2-step=12.pt", "epoch=3-step=16.pt"]
    assert ckpt.best_model_path == str(tmp_path / "epoch=3-step=16.pt")
    assert ckpt.best_model_score is None


def test_without_monitor_keep_all(make_trainer, tmp_path):
    trainer = make_trainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, save_top_k=-1)
    trainer.fit([ckpt], [{"train_loss": 1.0}] * 3)
    assert _files(tmp_path) == ["epoch=0-step=4.pt", "epoch=1-step=8.pt", "epoch=2-step=12.pt"]


def test_default_dirpath_is_under_default_root_dir(make_trainer, tmp_path):
    trainer = make_trainer(default_root_dir=tmp_path / "run")
    ckpt = ModelCheckpoint()
    trainer.fit([ckpt], [{"train_loss": 1.0}])
    assert _files(tmp_path / "run" / "checkpoints") == ["epoch=0-step=4.pt"]


def test_filename_formatting():
    ckpt = ModelCheckpoint(filename="{epoch:02d}-{val_loss:.4f}")
    assert ckpt.format_checkpoint_name({"epoch": 3, "val_loss": 0.123456}) == "epoch=03-val_loss=0.1235.pt"
    assert ckpt.format_checkpoint_name({"epoch": 3.0, "val_loss": 1}) == "epoch=03-val_loss=1.0000.pt"
    assert ModelCheckpoint().format_checkpoint_name({"epoch": 3, "step": 120}) == "epoch=3-step=120.pt"
    spelled = ModelCheckpoint(filename="epoch={epoch}-step={step}")
    assert spelled.format_checkpoint_name({"epoch": 3, "step": 7}) == "epoch=3-step=7.pt"
    slashed = ModelCheckpoint(filename="best-{lr-Adam/pg1:.1e}")
    assert slashed.format_checkpoint_name({"lr-Adam/pg1": 0.001}) == "best-lr-Adam_pg1=1.0e-03.pt"
    assert ModelCheckpoint(filename="model.pt").format_checkpoint_name({}) == "model.pt"
    assert ModelCheckpoint(filename="{epoch}").format_checkpoint_name({"epoch": 1}, version=2) == "epoch=1-v2.pt"


def test_filename_with_unknown_metric_names_the_available_ones(make_trainer, tmp_path):
    trainer = make_trainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{epoch}-{val_acc:.2f}")
    with pytest.raises(ConfigurationError, match=r"val_acc.*val_loss"):
        trainer.fit([ckpt], _epochs([0.5]))


def test_same_name_twice_gets_a_version_suffix(make_trainer, tmp_path):
    trainer = make_trainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{epoch}", save_top_k=-1, every_n_train_steps=2)
    trainer.fit([ckpt], [{"train_loss": 1.0}])
    assert _files(tmp_path) == ["epoch=0-v1.pt", "epoch=0.pt"]


def test_foreign_file_is_neither_overwritten_nor_deleted(make_trainer, tmp_path):
    foreign = tmp_path / "epoch=0.pt"
    foreign.write_bytes(b"not ours")
    trainer = make_trainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{epoch}", monitor="val_loss", save_top_k=1)
    trainer.fit([ckpt], _epochs([0.5, 0.3]))
    assert foreign.read_bytes() == b"not ours"
    assert _files(tmp_path) == ["epoch=0.pt", "epoch=1.pt"]  # epoch=0-v1.pt was ours and dropped out


def test_save_last_tracks_the_latest_moment(make_trainer, tmp_path):
    trainer = make_trainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{epoch}", monitor="val_loss", save_top_k=1, save_last=True)
    trainer.fit([ckpt], _epochs([0.2, 0.5, 0.9]))
    assert _files(tmp_path) == ["epoch=0.pt", "last.pt"]
    assert ckpt.last_model_path == str(tmp_path / "last.pt")
    assert torch.load(tmp_path / "last.pt", weights_only=True)["epoch"] == 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_save_last_with_top_k_zero(make_trainer, tmp_path):
    trainer = make_trainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, save_top_k=0, save_last=True)
    trainer.fit([ckpt], [{"train_loss": 1.0}] * 2)
    assert _files(tmp_path) == ["last.pt"]


def test_every_n_epochs(make_trainer, tmp_path):
    trainer = make_trainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{epoch}", save_top_k=-1, every_n_epochs=2)
    trainer.fit([ckpt], [{"train_loss": 1.0}] * 5)
    assert _files(tmp_path) == ["epoch=1.pt", "epoch=3.pt"]


def test_every_n_train_steps(make_trainer, tmp_path):
    trainer = make_trainer()  # 4 batches per epoch, one optimizer step per batch
    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{step}", save_top_k=-1, every_n_train_steps=3)
    trainer.fit([ckpt], [{"train_loss": 1.0}] * 2)
    # steps 3 and 6; no epoch-end saves when only every_n_train_steps is given
    assert _files(tmp_path) == ["step=3.pt", "step=6.pt"]
    assert [torch.load(tmp_path / f, weights_only=True)["step"] for f in ("step=3.pt", "step=6.pt")] == [3, 6]


def test_every_n_train_steps_saves_once_per_step_under_accumulation(make_trainer, tmp_path):
    trainer = make_trainer(accumulate=2)  # 4 batches -> optimizer steps after batches 1 and 3
    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{step}", save_top_k=-1, every_n_train_steps=2)
    trainer.fit([ckpt], [{"train_loss": 1.0}] * 3)
    assert _files(tmp_path) == ["step=2.pt", "step=4.pt", "step=6.pt"]
    assert len(trainer.saved) == 3


def test_epoch_end_save_is_skipped_when_a_step_save_caught_the_same_step(make_trainer, tmp_path):
    trainer = make_trainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{step}", save_top_k=-1, every_n_epochs=1, every_n_train_steps=4)
    trainer.fit([ckpt], [{"train_loss": 1.0}] * 2)
    assert _files(tmp_path) == ["step=4.pt", "step=8.pt"]
    assert len(trainer.saved) == 2


def test_step_saving_with_monitor_before_the_first_validation(make_trainer, tmp_path):
    trainer = make_trainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{step}", monitor="val_loss", save_top_k=1, every_n_train_steps=2)
    trainer.fit([ckpt], _epochs([0.5, 0.4]))
    # epoch 0: val_loss does not exist yet at steps 2 and 4 -> skipped; epoch 1: steps 6, 8 use 0.5
    assert _files(tmp_path) == ["step=6.pt"]
    assert ckpt.best_model_score == 0.5


def test_missing_monitor_is_a_clear_error(make_trainer, tmp_path):
    trainer = make_trainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, monitor="val_accuracy")
    with pytest.raises(ConfigurationError) as info:
        trainer.fit([ckpt], _epochs([0.5]))
    assert "val_accuracy" in str(info.value) and "val_loss" in str(info.value) and "monitor=" in str(info.value)


def test_resumed_bookkeeping_matches_an_uninterrupted_run(make_trainer, tmp_path):
    scores = [0.5, 0.3, 0.4, 0.2, 0.35, 0.1]
    straight = ModelCheckpoint(dirpath=tmp_path / "a", filename="{epoch}", monitor="val_loss", save_top_k=2,
                                 save_last=True)
    make_trainer().fit([straight], _epochs(scores))

    first = ModelCheckpoint(dirpath=tmp_path / "b", filename="{epoch}", monitor="val_loss", save_top_k=2,
                              save_last=True)
    t1 = make_trainer()
    t1.fit([first], _epochs(scores[:3]))
    resumed = ModelCheckpoint(dirpath=tmp_path / "b", filename="{epoch}", monitor="val_loss", save_top_k=2,
                                save_last=True)
    resumed.load_state_dict(weights_only_roundtrip(first.state_dict()))
    t2 = make_trainer(current_epoch=3, global_step=12)
    t2.fit([resumed], _epochs(scores[3:]))

    assert _files(tmp_path / "a") == ["epoch=3.pt", "epoch=5.pt", "last.pt"]
    assert _files(tmp_path / "b") == _files(tmp_path / "a")
    rel = lambda d: {k.rsplit("/", 1)[-1]: v for k, v in d.items()}  # noqa: E731
    assert rel(resumed.best_k_models) == rel(straight.best_k_models) == {"epoch=3.pt": 0.2, "epoch=5.pt": 0.1}
    assert resumed.best_model_score == straight.best_model_score == 0.1
    assert resumed.kth_value == straight.kth_value == 0.2


def test_only_global_zero_touches_files(make_trainer, tmp_path):
    # Another process's file sits where this rank's bookkeeping names its first checkpoint.
    (tmp_path / "epoch=0.pt").write_bytes(b"rank 0")
    trainer = make_trainer(is_global_zero=False)
    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{epoch}", monitor="val_loss", save_top_k=1, save_last=True)
    trainer.fit([ckpt], _epochs([0.5, 0.3]))
    assert _files(tmp_path) == ["epoch=0.pt"]  # nothing written, nothing deleted
    assert (tmp_path / "epoch=0.pt").read_bytes() == b"rank 0"
    assert ckpt.best_model_path == str(tmp_path / "epoch=1.pt")  # same bookkeeping as rank 0
    assert len(trainer.saved) == 4  # save_checkpoint is still called (it writes on rank 0 only)


def test_save_on_exception(make_trainer, tmp_path):
    trainer = make_trainer(current_epoch=2, global_step=9)
    ckpt = ModelCheckpoint(dirpath=tmp_path, save_on_exception=True)
    ckpt.on_exception(trainer, KeyboardInterrupt())
    assert _files(tmp_path) == ["exception-epoch=2-step=9.pt"]
    quiet = ModelCheckpoint(dirpath=tmp_path / "q")
    quiet.on_exception(trainer, RuntimeError())
    assert _files(tmp_path / "q") == []


def test_bad_arguments_are_rejected():
    with pytest.raises(ConfigurationError, match="mode"):
        ModelCheckpoint(mode="lowest")
    with pytest.raises(ConfigurationError, match="save_top_k"):
        ModelCheckpoint(save_top_k=-2)
    with pytest.raises(ConfigurationError, match="every_n_epochs"):
        ModelCheckpoint(every_n_epochs=-1)
    with pytest.raises(ConfigurationError, match="every_n_train_steps"):
        ModelCheckpoint(every_n_train_steps=1.5)
    with pytest.raises(ConfigurationError, match="template"):
        ModelCheckpoint(filename="{epoch")
    for bad in ("{0}", "{}", "{model.name}", "{x[0]}"):
        with pytest.raises(ConfigurationError, match="plain metric name"):
            ModelCheckpoint(filename=bad)


def test_class_attributes_and_state_key():
    assert ModelCheckpoint.writes_checkpoints is True
    a = ModelCheckpoint(monitor="val_loss", mode="min")
    b = ModelCheckpoint(monitor="val_acc", mode="max")
    c = ModelCheckpoint(every_n_train_steps=100)
    for text in ("val_acc", "max", "every_n_epochs", "every_n_train_steps"):
        assert text in b.state_key
    assert "100" in c.state_key
    CallbackList([a, b, c])
    state = weights_only_roundtrip(a.state_dict())
    assert set(state) >= {"best_model_path", "best_model_score", "best_k_models", "last_model_path",
                          "kth_best_model_path"}


# ---------------------------------------------------------------------- with the real Trainer


def _top2_names(history):
    """File names the two lowest val_loss epochs must have, from the Trainer's own history."""
    ranked = sorted(range(history.num_epochs), key=lambda e: history["val_loss"][e])[:2]
    return sorted(f"epoch={e}-val_loss={history['val_loss'][e]:.4f}.pt" for e in ranked)


def test_real_trainer_top_k_and_last(real_trainer, loaders, tmp_path):
    from pfdtrain.checkpoint import load

    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{epoch}-{val_loss:.4f}", monitor="val_loss", save_top_k=2,
                           save_last=True)
    trainer = real_trainer([ckpt], max_epochs=5)
    history = trainer.fit(*loaders)
    assert _files(tmp_path) == sorted([*_top2_names(history), "last.pt"])
    best_epoch = min(range(5), key=lambda e: history["val_loss"][e])
    assert ckpt.best_model_score == pytest.approx(history["val_loss"][best_epoch])
    best = load(ckpt.best_model_path)
    assert best["training"]["epoch"] == best_epoch + 1  # saved at the end of that epoch: resumes at the next
    last = load(tmp_path / "last.pt")
    assert last["training"]["epoch"] == 5
    assert last["callbacks"][ckpt.state_key]["best_k_models"] == ckpt.best_k_models
    assert last["training"]["best_metric"] == ckpt.best_model_score


def test_real_trainer_resume_keeps_the_same_files(real_trainer, loaders, tmp_path):
    def make_ckpt(folder):
        return ModelCheckpoint(dirpath=folder, filename="{epoch}-{val_loss:.4f}", monitor="val_loss", save_top_k=2,
                               save_last=True)

    straight = real_trainer([make_ckpt(tmp_path / "a")], max_epochs=5)
    straight_history = straight.fit(*loaders)

    real_trainer([make_ckpt(tmp_path / "b")], max_epochs=2).fit(*loaders)
    resumed_ckpt = make_ckpt(tmp_path / "b")
    resumed = real_trainer([resumed_ckpt], max_epochs=5)
    resumed.fit(*loaders, ckpt_path=tmp_path / "b" / "last.pt")

    assert resumed.history == straight_history  # exact resume (the Trainer's guarantee)
    assert _files(tmp_path / "b") == _files(tmp_path / "a") == sorted([*_top2_names(straight_history), "last.pt"])


def test_real_trainer_every_n_train_steps_saves_mid_epoch(real_trainer, loaders, tmp_path):
    from pfdtrain.checkpoint import load

    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{step}", save_top_k=-1, every_n_train_steps=3)
    real_trainer([ckpt], max_epochs=2).fit(*loaders)  # 8 batches per epoch: steps 1..16
    assert _files(tmp_path) == sorted(f"step={s}.pt" for s in (3, 6, 9, 12, 15))
    state = load(tmp_path / "step=9.pt")
    assert state["training"]["global_step"] == 9 and state["training"]["batches_done_in_epoch"] == 1


def test_step_saving_monitoring_an_epoch_metric_waits_for_the_first_epoch(make_trainer, tmp_path):
    trainer = make_trainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{step}", monitor="train_loss", save_top_k=1,
                           every_n_train_steps=2)
    trainer.fit([ckpt], [{"train_loss": 0.5}, {"train_loss": 0.4}])
    # steps 2 and 4 come before any train_loss exists; step 6 saves with epoch 0's value
    assert _files(tmp_path) == ["step=6.pt"]
    other = ModelCheckpoint(dirpath=tmp_path, monitor="train_acc", every_n_train_steps=2)
    with pytest.raises(ConfigurationError, match="train_acc"):
        make_trainer().fit([other], [{"train_loss": 0.5}, {"train_loss": 0.4}])


# ---------------------------------------------------------------------- after a crash (save_top_k)


class Killed(BaseException):
    """Stands for SIGKILL at one exact moment: nothing after it runs (no clean-up, no later save)."""


def _latest(folder):
    return ModelCheckpoint(dirpath=folder, save_top_k=2, save_last=True)  # monitor=None: the latest 2


def test_each_kept_file_carries_bookkeeping_that_includes_itself(real_trainer, loaders, tmp_path):
    from pfdtrain.checkpoint import load

    ckpt = _latest(tmp_path)
    real_trainer([ckpt], max_epochs=3).fit(*loaders)
    for path in ckpt.latest_model_paths:
        assert path in load(path)["callbacks"][ckpt.state_key]["latest_model_paths"]


def test_a_file_written_just_before_the_kill_is_replaced_not_kept_beside_a_v1(real_trainer, loaders, tmp_path,
                                                                              monkeypatch):
    """Killed after writing epoch 1's file, before last.pt: resuming from last.pt (epoch 0) redoes
    epoch 1 and writes the same name again. The folder ends as an uninterrupted run leaves it."""
    real_trainer([_latest(tmp_path / "straight")], max_epochs=4).fit(*loaders)

    folder = tmp_path / "b"
    first = real_trainer([_latest(folder)], max_epochs=4)
    real_save = first.save_checkpoint

    def save(path):
        if first.current_epoch == 1 and str(path).endswith("last.pt"):
            raise Killed
        return real_save(path)

    monkeypatch.setattr(first, "save_checkpoint", save)
    with pytest.raises(Killed):
        first.fit(*loaders)
    assert _files(folder) == ["epoch=0-step=8.pt", "epoch=1-step=16.pt", "last.pt"]

    real_trainer([_latest(folder)], max_epochs=4).fit(*loaders, ckpt_path=folder / "last.pt")
    assert _files(folder) == _files(tmp_path / "straight") == ["epoch=2-step=24.pt", "epoch=3-step=32.pt", "last.pt"]


def test_a_file_dropped_but_not_yet_deleted_at_the_kill_is_deleted_on_resume(real_trainer, loaders, tmp_path,
                                                                             monkeypatch):
    """Killed between writing epoch 2's file and deleting epoch 0's: resuming from the newest file
    (whose bookkeeping no longer lists epoch 0's) deletes the straggler."""
    import pfdtrain.callbacks.model_checkpoint as module

    real_trainer([_latest(tmp_path / "straight")], max_epochs=4).fit(*loaders)
    folder = tmp_path / "b"
    real_remove = os.remove

    def remove(path):
        raise Killed

    monkeypatch.setattr(module.os, "remove", remove)
    with pytest.raises(Killed):
        real_trainer([_latest(folder)], max_epochs=4).fit(*loaders)
    monkeypatch.setattr(module.os, "remove", real_remove)
    assert _files(folder) == ["epoch=0-step=8.pt", "epoch=1-step=16.pt", "epoch=2-step=24.pt", "last.pt"]
    (folder / "exception-epoch=0-step=3.pt").write_bytes(b"not a file of the bookkeeping")

    real_trainer([_latest(folder)], max_epochs=4).fit(*loaders, ckpt_path=folder / "epoch=2-step=24.pt")
    assert _files(folder) == sorted([*_files(tmp_path / "straight"), "exception-epoch=0-step=3.pt"])


def test_files_of_another_run_in_the_same_folder_are_never_replaced_or_deleted(real_trainer, loaders, tmp_path):
    folder = tmp_path / "shared"
    real_trainer([_latest(folder)], max_epochs=2).fit(*loaders)
    before = {name: (folder / name).read_bytes() for name in _files(folder) if name != "last.pt"}
    real_trainer([_latest(folder)], max_epochs=2).fit(*loaders)  # a fresh run: another run id
    assert _files(folder) == sorted([*before, "epoch=0-step=8-v1.pt", "epoch=1-step=16-v1.pt", "last.pt"])
    assert all((folder / name).read_bytes() == data for name, data in before.items())


def test_stale_temporary_files_are_removed_when_the_run_starts(make_trainer, tmp_path):
    leftover = tmp_path / ".epoch=4-step=57.pt.tmp-999999999-0123456789ab"
    leftover.write_bytes(b"half a checkpoint")
    ModelCheckpoint(dirpath=tmp_path).on_fit_start(make_trainer())
    assert leftover.exists() is (os.name == "nt")

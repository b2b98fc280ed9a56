"""The anchor probe cases (shared/codemod-anchors.md, C01-C14) as before/after pairs, shared by the
codemod tests (kept beside them on the test path; test modules are not importable by name)."""

CASES = {
    "C01 from old import N": (
        "from training.cnn_trainer import CNNTrainer\n",
        "from pfdtrain.compat.cnn_trainer import CNNTrainer\n",
    ),
    # only N moves: the unmapped name stays on the legacy module (and is reported), no guess
    "C02 from old import N, other": (
        "from training.cnn_losses import FocalLoss, create_loss_function\n",
        "from pfdtrain.compat.cnn_losses import FocalLoss\nfrom training.cnn_losses import create_loss_function\n",
    ),
    # libcst RenameCommand, pyupgrade and django-upgrade drop the comment on the moved name
    "C03 parenthesised, comment on N": (
        "from training.cnn_losses import (\n    FocalLoss,  # the loss we tune\n    create_loss_function,\n)\n",
        "from pfdtrain.compat.cnn_losses import (\n    FocalLoss,  # the loss we tune\n)\n"
        "from training.cnn_losses import create_loss_function\n",
    ),
    # RenameCommand drops the alias and expands every use; we keep `T`
    "C04 import old as T; T.N": (
        "import training.cnn_trainer as T\n\ntrainer = T.CNNTrainer(model)\n",
        "import pfdtrain.compat.cnn_trainer as T\n\ntrainer = T.CNNTrainer(model)\n",
    ),
    # pyupgrade rewrites the use but adds no import
    "C05 import old; old.N": (
        "import training.cnn_trainer\n\ntrainer = training.cnn_trainer.CNNTrainer(model)\n",
        "import pfdtrain.compat.cnn_trainer\n\ntrainer = pfdtrain.compat.cnn_trainer.CNNTrainer(model)\n",
    ),
    # no tool rewrites string references
    "C07 mock.patch string": (
        'from unittest import mock\n\n\n@mock.patch("training.cnn_trainer.CNNTrainer")\n'
        "def test_it(trainer):\n    pass\n",
        'from unittest import mock\n\n\n@mock.patch("pfdtrain.compat.cnn_trainer.CNNTrainer")\n'
        "def test_it(trainer):\n    pass\n",
    ),
    "C08 __all__ keeps naming the kept local name": (
        'from training.cnn_trainer import CNNTrainer\n\n__all__ = ["CNNTrainer"]\n',
        'from pfdtrain.compat.cnn_trainer import CNNTrainer\n\n__all__ = ["CNNTrainer"]\n',
    ),
    # every tool skips it; we move it to the compat module (same public names) and report it
    "C09 star import": (
        "from training.cnn_losses import *\n",
        "from pfdtrain.compat.cnn_losses import *\n",
    ),
    # RenameCommand adds a blank first line here
    "C11 function-local import": (
        "def build(model):\n    from training.cnn_trainer import CNNTrainer\n    return CNNTrainer(model)\n",
        "def build(model):\n    from pfdtrain.compat.cnn_trainer import CNNTrainer\n    return CNNTrainer(model)\n",
    ),
    # django-upgrade drops the trailing comment
    "C13 header comment + trailing comment": (
        "# Train the CNN.\nfrom training.cnn_trainer import CNNTrainer  # noqa: F401\n",
        "# Train the CNN.\nfrom pfdtrain.compat.cnn_trainer import CNNTrainer  # noqa: F401\n",
    ),
    # RenameCommand drops the alias and renames every use
    "C14 from old import N as Legacy": (
        "from training.cnn_trainer import CNNTrainer as Legacy\n\ntrainer = Legacy(model)\n",
        "from pfdtrain.compat.cnn_trainer import CNNTrainer as Legacy\n\ntrainer = Legacy(model)\n",
    ),
}

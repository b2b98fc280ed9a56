"""A seeded corpus of Python files for the codemod benchmark.

``python benchmarks/codemod_corpus.py OUT [N] [--seed S]`` writes ``N`` (default 2,000) files of
ordinary research code (data loaders, models, training loops, plots, utilities; about 230 lines
each, all valid Python) into ``OUT``. By default:

* about 5% import legacy names, in eight forms (``from training.x import A, B``, parenthesised
  with comments, ``from packages.core.training.x import``, ``from training import x``,
  ``import training.x as t`` with ``t.A`` uses, ``import training.x`` with ``training.x.A`` uses,
  a function-local import, a ``mock.patch("training.x.A")`` string), some with the deprecated
  ``create_optimizer(params, name)`` call;
* about 30% more contain the word ``training`` for other reasons (comments, docstrings,
  ``model.training``, ``training_loss``, ``"training.log"``, ``from .training_utils import``),
  which a substring filter would let through but an import-shaped one must not.

Same seed, same bytes.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

LEGACY_SHARE = 0.05
WORD_SHARE = 0.30

_WORDS = ["signal", "bearing", "fault", "rpm", "batch", "feature", "window", "spectrum", "label", "sensor",
          "vibration", "sample", "epoch", "layer", "kernel", "channel", "score", "metric", "record", "frame"]

_MODULE_HEADER = '''"""{title}."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn
'''

_FUNCTION = '''

def {name}({a}, {b}=None, scale={scale}):
    """Compute the {w1} {w2} of a {w3} (helper {i})."""
    values = []
    for index, item in enumerate({a}):
        if {b} is not None and index % {mod} == 0:
            item = item * scale + {offset}
        elif index > {limit}:
            break
        values.append(float(item) ** 2 / (1 + index))
    total = sum(values)
    mean = total / max(len(values), 1)
    result = {{"{w1}": total, "{w2}": mean, "count": len(values)}}
    if mean > {limit}:
        result["flag"] = math.sqrt(mean)
    return result
'''

_CLASS = '''

class {name}(nn.Module):
    """A small {w1} model for {w2} data ({i})."""

    def __init__(self, in_channels: int = {c}, hidden: int = {h}, num_classes: int = 11) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, hidden, kernel_size={k}, padding={p})
        self.norm = nn.BatchNorm1d(hidden)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.head = nn.Linear(hidden, num_classes)
        self.{w1}_scale = {scale}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.norm(self.conv(x)))
        x = self.pool(x).flatten(1)
        return self.head(x * self.{w1}_scale)

    def describe(self) -> dict:
        return {{
            "kind": "{name}",
            "hidden": self.conv.out_channels,
            "parameters": sum(p.numel() for p in self.parameters()),
        }}
'''

_LOOP = '''

def run_{name}(model, loader, optimizer, epochs: int = {e}, log_every: int = {le}):
    """Fit ``model`` on ``loader`` for a few epochs and keep the {w1} history."""
    history = {{"loss": [], "{w1}": []}}
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        running = 0.0
        for step, (x, y) in enumerate(loader):
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            running += loss.item()
            if step % log_every == 0:
                print(f"epoch {{epoch}} step {{step}} loss {{running / (step + 1):.4f}}")
        history["loss"].append(running)
        history["{w1}"].append(epoch * {scale})
    return history
'''

_WORD_SNIPPETS = [
    "\n# training data lives in {w1}/ next to the {w2} files\n",
    "\n\ndef is_{w1}_mode(model):\n    return bool(model.training)\n",
    "\n\ndef {w1}_loss_curve(training_loss, validation_loss):\n"
    "    return [a - b for a, b in zip(training_loss, validation_loss)]\n",
    '\n\nLOG_FILE = "training.log"\n',
    '\n\ndef describe_{w1}():\n    """Explain the training schedule used for {w2} runs."""\n    return "training"\n',
    "\n\nTRAINING_EPOCHS = {e}  # training length\n",
]

_LEGACY_IMPORTS = [
    "from training.cnn_losses import FocalLoss, LabelSmoothingCrossEntropy\n",
    "from training.cnn_optimizer import (\n    create_optimizer,  # the new factory\n    get_parameter_groups,\n)\n",
    "from packages.core.training.cnn_trainer import CNNTrainer\n",
    "from training import metrics\n",
    "import training.physics_loss_functions as plf\n",
    "import training.cnn_schedulers\n",
    "from training.optimizers import create_optimizer, get_lr\n",
    "from training.callbacks import EarlyStopping  # old callback API\n",
]

_LEGACY_USES = [
    "\n\ndef build_losses():\n    return FocalLoss(gamma=2.0), LabelSmoothingCrossEntropy(0.1)\n",
    "\n\ndef build_optimizer(model):\n    return create_optimizer('adamw', get_parameter_groups(model), lr=1e-3)\n",
    "\n\ndef build_trainer(model, loaders):\n    return CNNTrainer(model, loaders[0], loaders[1], device='cpu')\n",
    "\n\ndef score(logits, y):\n    return metrics.compute_accuracy(logits, y)\n",
    "\n\ndef physics():\n    return plf.PhysicalConstraintLoss(), plf.TemporalSmoothnessLoss()\n",
    "\n\ndef schedule(opt):\n    return training.cnn_schedulers.create_step_scheduler(opt, step_size=5)\n",
    "\n\ndef legacy_optimizer(model):\n    opt = create_optimizer(model.parameters(), 'sgd', lr=0.1)\n"
    "    return opt, get_lr(opt)\n",
    "\n\ndef stopper():\n    return EarlyStopping(patience=3)\n",
]

_LEGACY_EXTRAS = [
    "\n\ndef lazy_trainer():\n    from training.cnn_trainer import CNNTrainer\n    return CNNTrainer\n",
    '\n\nPATCH_TARGET = "training.cnn_trainer.CNNTrainer.fit"\n',
]


def make_file(rng: random.Random, index: int, kind: str) -> str:
    def words() -> dict:
        w = rng.sample(_WORDS, 3)
        return {"w1": w[0], "w2": w[1], "w3": w[2], "i": index, "scale": round(rng.uniform(0.1, 3.0), 3),
                "e": rng.randint(2, 50), "le": rng.randint(5, 100)}

    parts = [_MODULE_HEADER.format(title=f"{rng.choice(_WORDS).title()} utilities {index}")]
    if kind == "legacy":
        form = rng.randrange(len(_LEGACY_IMPORTS))
        parts.append(_LEGACY_IMPORTS[form])
    blocks = rng.randint(9, 13)
    for b in range(blocks):
        choice = rng.random()
        if choice < 0.5:
            parts.append(_FUNCTION.format(name=f"{rng.choice(_WORDS)}_{b}_{index}", a=rng.choice(_WORDS),
                                          b=rng.choice(_WORDS) + "_ref", mod=rng.randint(2, 7),
                                          offset=rng.randint(0, 9), limit=rng.randint(10, 90), **{
                                              k: v for k, v in words().items()
                                              if k in ("w1", "w2", "w3", "i", "scale")}))
        elif choice < 0.8:
            parts.append(_CLASS.format(name=f"{rng.choice(_WORDS).title()}Net{b}x{index}", c=rng.randint(1, 4),
                                       h=rng.choice([16, 32, 64]), k=rng.choice([3, 5, 7]), p=rng.randint(1, 3),
                                       **{k: v for k, v in words().items() if k in ("w1", "w2", "i", "scale")}))
        else:
            parts.append(_LOOP.format(name=f"{rng.choice(_WORDS)}_{b}_{index}",
                                      **{k: v for k, v in words().items() if k in ("w1", "e", "le", "scale")}))
        if kind == "word" and b == 1:
            parts.append(rng.choice(_WORD_SNIPPETS).format(**words()))
    if kind == "legacy":
        parts.append(_LEGACY_USES[form])
        if rng.random() < 0.5:
            parts.append(rng.choice(_LEGACY_EXTRAS))
    return "".join(parts)


def generate(out: Path, count: int = 2000, seed: int = 0) -> list[Path]:
    """Write the corpus; returns the paths in order. Kinds are drawn per file: legacy / word / plain."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    n_legacy = round(count * LEGACY_SHARE)
    n_word = round(count * WORD_SHARE)
    kinds = ["legacy"] * n_legacy + ["word"] * n_word + ["plain"] * (count - n_legacy - n_word)
    rng.shuffle(kinds)
    for index, kind in enumerate(kinds):
        folder = out / f"pkg{index // 100:02d}"
        folder.mkdir(exist_ok=True)
        path = folder / f"module_{index:04d}.py"
        path.write_text(make_file(rng, index, kind))
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("count", type=int, nargs="?", default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    paths = generate(args.out, args.count, args.seed)
    lines = sum(p.read_text().count("\n") for p in paths)
    print(f"{len(paths)} files, {lines} lines in {args.out}")


if __name__ == "__main__":
    main()

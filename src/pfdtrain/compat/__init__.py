"""Legacy-API adapters: one module per legacy ``training.<module>``, same public names.

Each adapter keeps the legacy signatures, defaults, return values, warnings and errors (even
where legacy was wrong) and delegates the numerics to the core packages (``pfdtrain.losses``,
``pfdtrain.physics``, ``pfdtrain.optim``, ``pfdtrain.metrics``, ``pfdtrain.augment``). Nothing is
imported eagerly here, so importing one adapter never pulls in the others.
"""

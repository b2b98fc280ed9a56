"""The training package as it was for the project's first run, frozen beside its script (as
LSTM-PFD's ``milestones/milestone-N/training``). ``train_first_run.py`` puts this folder first on
``sys.path``, so its ``training.*`` imports load this copy, not the legacy package."""

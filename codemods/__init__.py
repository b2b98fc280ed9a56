"""libcst codemods that move a repository from the legacy training package to pfdtrain."""

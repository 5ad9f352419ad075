"""The MLflow side of training: logging runs, registering versions, moving aliases, the lock."""

"""The deployment as data and its readers (docker run, compose)."""

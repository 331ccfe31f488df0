"""The deployment as data: its readers and the command renderers."""

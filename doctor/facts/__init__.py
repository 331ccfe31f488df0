"""What the checks read: the run's ``Context`` (cached facts), the model repository, checkpoints, GPU placement.

Takes a ``Target`` and the probes; gives facts computed once per run.
"""

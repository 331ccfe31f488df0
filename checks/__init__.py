"""The built-in checks, one module per check id (``model-config`` lives in ``model_config.py``).

They are registered through the ``triton_doctor.checks`` entry-point group in ``pyproject.toml``, the same
way a third-party plugin registers its own.
"""

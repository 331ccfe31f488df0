"""``python -m triton_doctor``."""

from triton_doctor.cli import main

main()

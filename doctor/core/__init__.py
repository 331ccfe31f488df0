"""Small pure helpers every stage may use: versions and sizes, Hub ids, excerpts, redaction of secrets.

Takes plain values; gives plain values. Imports nothing else of the doctor.
"""

"""The deployment as data, and every reader that builds it (flags, config file, ``docker run`` in three shells,
a compose project).

Takes what the user gave; gives one ``Target`` (image, mounts, env, ports, tritonserver arguments) and renders it back.
"""

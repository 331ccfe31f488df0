"""The code that touches the world: files, Docker, NVML, the Hugging Face Hub, Triton's HTTP/gRPC endpoints.

Takes paths, URLs and clients; gives typed facts (or the typed reason there are none), each read bounded.
"""

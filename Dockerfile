# The doctor's own image: `triton-doctor check --profile quick` as a Kubernetes init container (preflight), or
# any other command (`docker run --rm -v $PWD/model_repository:/models IMAGE check --repo /models`).
#
#   docker build -t triton-doctor:0.1.0 .
#
# BASE is any image with Python 3.11+ and pip (the official slim image by default). Without a registry, build
# from a local base that already has the dependencies and install offline:
#   docker build --build-arg BASE=<local image> \
#     --build-arg PIP_ARGS="--no-deps --no-build-isolation --break-system-packages" -t triton-doctor:0.1.0 .
ARG BASE=python:3.11-slim
FROM ${BASE}
ARG PIP_ARGS=""
LABEL org.opencontainers.image.title="triton-doctor" \
      org.opencontainers.image.description="Finds what breaks a Triton Inference Server + vLLM deployment"
# pyproject.toml, README.md, doctor/, checks/ and, for an offline build, wheels/ (see .dockerignore).
COPY . /src
RUN python3 -m pip install --no-cache-dir ${PIP_ARGS} $(ls /src/wheels/*.whl 2>/dev/null) /src && rm -rf /src
ENV NO_COLOR=1 PYTHONDONTWRITEBYTECODE=1
ENTRYPOINT ["triton-doctor"]
CMD ["check", "--profile", "quick"]

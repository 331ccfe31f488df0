"""``docker-ports``: the host ports the command publishes (8000/8001/8002) are free, or who holds them."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.probes import host_probe
from triton_doctor.results import Category, Outcome

DEFAULT_PORTS = (8000, 8001, 8002)
ROLE = {8000: "HTTP", 8001: "gRPC", 8002: "metrics"}


class DockerPorts(Check):
    """Published ports are free."""

    id = "docker-ports"
    title = "Host ports"
    category = Category.DOCKER
    describes_new_container = True
    after = frozenset({"docker-container-name"})
    explanation = (
        "Triton listens on 8000 (HTTP), 8001 (gRPC) and 8002 (metrics). A port held on the host (often by an "
        "earlier Triton container) fails the run with 'port is already allocated', or inside --net=host with "
        "'Socket 0.0.0.0:8000 already in use'. The doctor binds each port for an instant to see whether it is "
        "free, and names the container or process that holds it."
    )
    sub_ids = {"in-use": "a published port is held by a container or process"}

    def run(self, ctx: Context) -> Outcome:
        docker = ctx.target.docker
        ports: list[tuple[int, int]] = []
        if docker is not None and docker.network == "host":
            ports = [(p, p) for p in DEFAULT_PORTS]
        elif docker is not None:
            ports = [(p.host_port, p.container_port) for p in docker.ports if p.host_port]
            if not ports:
                return Outcome(skip_reason="the command publishes no port (-p)")
        else:
            ports = [(p, p) for p in DEFAULT_PORTS]
        f = FindingFactory(self.id)
        daemon = ctx.docker()
        holders = {port: c for c in daemon.containers for (_ip, port, _c) in c.ports} if daemon.reachable else {}
        for host_port, container_port in ports:
            facts = host_probe.port(host_port)
            if facts.free:
                continue
            role = ROLE.get(container_port, "")
            other = f"publish another port: -p {host_port + 1000}:{container_port}"
            container = holders.get(host_port)
            if container is not None:
                who = f"container {container.name} ({container.image}, {container.status})"
                remedy = f"docker stop {container.name}   # or {other}"
            elif facts.process:
                who = f"process {facts.process} (pid {facts.pid})"
                remedy = f"stop {facts.process} (pid {facts.pid}), or {other}"
            else:
                who = "another process" + (f" ({facts.error})" if facts.error else "")
                remedy = f"find it with: sudo ss -ltnp 'sport = :{host_port}'; or {other}"
            f.error(
                "in-use",
                f"host port {host_port}{f' ({role})' if role else ''} is held by {who}",
                evidence=f"bind 0.0.0.0:{host_port}: address in use",
                remedy=remedy,
                catalog_id="port-in-use",
            )
        checked = ", ".join(str(h) for h, _ in ports)
        return f.outcome(f"ports {checked}: " + (f"{len(f.findings)} in use" if f.findings else "free"))

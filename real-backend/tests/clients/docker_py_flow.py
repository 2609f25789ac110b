"""One flow of docker's Python SDK (docker-py) against a swarmd: a second client of swarmd's
Engine API, written by other people than the docker CLI's authors and ours.

Usage: python docker_py_flow.py unix:///path/swarmd.sock ADVERTISE_IP POOL
Prints one line per step; exits non-zero with the reason at the first surprise.
Run by real-backend/tests/e2e.rs (`docker_py_drives_a_service_through_swarmd`).
"""
import sys
import time

import docker
from docker.types import EndpointSpec, ServiceMode


def wait_for(what, check, limit_s=60.0):
    deadline = time.monotonic() + limit_s
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last is True:
            return
        time.sleep(0.25)
    raise SystemExit(f"timed out waiting for {what}: last saw {last!r}")


def running(service):
    return [t for t in service.tasks(filters={"desired-state": "running"}) if t["Status"]["State"] == "running"]


def states(service):
    """What each task is doing, for a timeout's message."""
    return [(t["Slot"], t["DesiredState"], t["Status"]["State"], t["Status"].get("Err")) for t in service.tasks()]


def main():
    base_url, advertise_ip, pool = sys.argv[1:4]
    client = docker.DockerClient(base_url=base_url, version="auto", timeout=60)
    print("api version", client.api.api_version)

    node_id = client.swarm.init(advertise_addr=advertise_ip, default_addr_pool=[pool])
    client.swarm.reload()
    print("swarm", client.swarm.id, "node", node_id)
    assert client.swarm.attrs["JoinTokens"]["Worker"].startswith("SWMTKN-1-"), client.swarm.attrs

    nodes = client.nodes.list()
    assert len(nodes) == 1, nodes
    node = nodes[0]
    assert node.id == node_id, (node.id, node_id)
    assert node.attrs["Spec"]["Role"] == "manager", node.attrs["Spec"]
    assert node.attrs["Status"]["State"] == "ready", node.attrs["Status"]
    assert node.attrs["ManagerStatus"]["Leader"] is True, node.attrs.get("ManagerStatus")
    print("node", node.attrs["Description"]["Hostname"], "ready, leader")

    network = client.networks.create("pynet", driver="overlay")
    assert network.attrs["Driver"] == "overlay", network.attrs
    print("network", network.name, network.id)

    service = client.services.create(
        "nginx",
        name="pyweb",
        mode=ServiceMode("replicated", replicas=2),
        endpoint_spec=EndpointSpec(ports={8080: 80}),
        networks=["pynet"],
    )
    print("service", service.name, service.id)
    wait_for("2 running tasks", lambda: len(running(service)) == 2 or states(service))
    service.reload()
    ports = service.attrs["Endpoint"]["Ports"]
    assert [(p["PublishedPort"], p["TargetPort"]) for p in ports] == [(8080, 80)], ports

    service.scale(3)
    wait_for("3 running tasks", lambda: len(running(service)) == 3 or states(service))
    service.reload()
    assert service.attrs["Spec"]["Mode"]["Replicated"]["Replicas"] == 3, service.attrs["Spec"]["Mode"]
    print("scaled to", len(running(service)), "running tasks")

    try:
        client.services.get("no-such-service")
        raise SystemExit("a missing service was found")
    except docker.errors.NotFound as e:
        print("missing service:", e.explanation)

    service.remove()
    wait_for("no services", lambda: client.services.list() == [] or client.services.list())
    network.remove()
    client.swarm.leave(force=True)
    print("left the swarm")


if __name__ == "__main__":
    main()

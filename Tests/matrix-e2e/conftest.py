"""Fixtures of the Matrix end-to-end stories: the people's event loop, the run's scratch directory and unique names
(the same Synapse serves other stories), and the four people every story uses: an asker and three Kubernetes
specialists, each a matrix-nio device of their own."""

import logging
import secrets
import shutil

import pytest

pytest.register_assert_rewrite("harness")

import harness  # noqa: E402

# Stories in this order: the client library against itself, then SkillRelay in a plain room (what works without
# encryption), then the encrypted story.
ORDER = ["test_clients.py", "test_plain_room.py", "test_encrypted_rooms.py"]


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: ORDER.index(item.path.name) if item.path.name in ORDER else len(ORDER))


@pytest.fixture(scope="session", autouse=True)
def quiet_nio():
    for name in ("nio", "peewee"):
        logging.getLogger(name).setLevel(logging.ERROR)


@pytest.fixture(scope="session")
def loop():
    loop = harness.Loop()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def scratch():
    path, owned = harness.scratch_directory()
    yield path
    if owned:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def run_id():
    """A suffix for every Matrix account of this run."""
    return secrets.token_hex(3)


@pytest.fixture(scope="session")
def homeserver():
    return harness.synapse_url()


class People:
    """The asker and three specialists (plus any second device added later); stopped at the end of the session."""

    def __init__(self, loop, scratch, run_id, homeserver):
        self.loop = loop
        self.scratch = scratch
        self.homeserver = homeserver
        self.handles = [f"e2e-{run_id}-asker"] + [f"e2e-{run_id}-specialist{i}" for i in (1, 2, 3)]
        self.devices = []
        for handle in self.handles:
            harness.register(handle, self.password(handle))
        self.asker = self.add_device(self.handles[0], "asker's laptop")
        self.specialists = [self.add_device(handle, "specialist's laptop") for handle in self.handles[1:]]

    @staticmethod
    def password(handle):
        return f"password-{handle}"

    def add_device(self, handle, name):
        """Logs `handle` in on a new device (its own nio store) and starts it syncing."""
        store = self.scratch / "people" / f"{handle}-{len(self.devices)}"
        person = harness.Person(handle, self.password(handle), self.homeserver, store, name)
        self.loop.run(person.start(), timeout=180)
        self.devices.append(person)
        return person

    def transcripts(self):
        return "\n".join(device.transcript() for device in self.devices)

    def stop(self):
        for device in self.devices:
            try:
                self.loop.run(device.stop(), timeout=30)
            except Exception as error:  # noqa: BLE001 — the others are stopped all the same
                logging.getLogger("matrix-e2e").warning("stopping %s: %r", device, error)


@pytest.fixture(scope="session")
def people(loop, scratch, run_id, homeserver):
    people = People(loop, scratch, run_id, homeserver)
    yield people
    harness.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (harness.ARTIFACTS / "people.txt").write_text(people.transcripts() + "\n")
    people.stop()

"""What the Matrix end-to-end stories are played with: people as matrix-nio clients with end-to-end encryption (each
their own device, logged in with a password, syncing with presence online, joining whatever they are invited to,
trusting every device), a real `skillrelay serve --im matrix` process, and the test Synapse that Scripts/synapse.sh
started. Run by Scripts/matrix-e2e, which sets SKILLRELAY_BINARY, MATRIX_E2E_SCRATCH and MATRIX_E2E_ARTIFACTS.

Everything people do is a coroutine on one event loop in a thread of its own (`Loop`), so their clients keep syncing
while a test waits; tests hand whole scenarios to it with `Loop.run`.
"""

import asyncio
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import olm
from nio import (
    AsyncClient,
    AsyncClientConfig,
    Event,
    InviteMemberEvent,
    JoinError,
    LoginResponse,
    MegolmEvent,
    RoomCreateResponse,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
)
from nio.api import Api

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("SKILLRELAY_BINARY", str(ROOT / ".build" / "debug" / "skillrelay"))
ARTIFACTS = Path(os.environ.get("MATRIX_E2E_ARTIFACTS", ROOT / ".matrix-e2e" / "artifacts"))
SERVER_NAME = "localhost"
MEGOLM = "m.megolm.v1.aes-sha2"

log = logging.getLogger("matrix-e2e")


def synapse_url():
    """The test Synapse: SYNAPSE_URL, else what `Scripts/synapse.sh up` wrote into .synapse/env."""
    if os.environ.get("SYNAPSE_URL"):
        return os.environ["SYNAPSE_URL"]
    env = ROOT / ".synapse" / "env"
    if env.exists():
        for line in env.read_text().splitlines():
            if line.startswith("SYNAPSE_URL="):
                return line.split("=", 1)[1]
    raise RuntimeError("no test Synapse: run Scripts/synapse.sh up --stock first")


def register(localpart, password, admin=False):
    """Registers (or logs in) a user with `Scripts/synapse.sh register`; returns an access token."""
    result = subprocess.run(
        [str(ROOT / "Scripts" / "synapse.sh"), "register", localpart, password] + (["admin"] if admin else []),
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    token = result.stdout.strip()
    if result.returncode != 0 or not token:
        raise RuntimeError(f"could not register {localpart}: {result.stderr.strip()}")
    return token


def user_id(localpart):
    return f"@{localpart}:{SERVER_NAME}"


def free_port():
    # Below the ephemeral range, which outgoing connections take their ports from (see the script).
    return int(subprocess.check_output([str(ROOT / "Scripts" / "free-port")], text=True))


def http_json(method, url, token=None, body=None, timeout=30):
    """One JSON request; returns (status, object)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, {"raw": raw.decode(errors="replace")}


async def eventually(seconds, what, check, context=None):
    """Polls `check` (a plain function) until it returns something true; fails after `seconds`, saying what it
    waited for and, from `context`, what there was to see."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = context() if context else ""
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}" + (f"\n{detail}" if detail else ""))
        await asyncio.sleep(0.25)


class Loop:
    """An asyncio event loop in a thread of its own, where every person's client lives and syncs."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="matrix-people", daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout=600):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


# MARK: - People


@dataclass
class Seen:
    """One timeline event as a person's client showed it to them."""
    room_id: str
    event_id: str
    sender: str
    type: str
    body: str
    #: It came as m.room.encrypted and the client decrypted it.
    decrypted: bool
    #: The client could not decrypt it (a MegolmEvent).
    undecryptable: bool
    #: The room had m.room.encryption when it came.
    room_encrypted: bool
    is_state: bool
    timestamp: int
    reply_to: str
    event: object

    def line(self):
        how = "UNDECRYPTABLE" if self.undecryptable else "encrypted" if self.decrypted else "clear"
        text = self.body.replace("\n", " | ")[:140]
        return f"  {self.timestamp} {self.room_id[:12]} {self.sender} {self.type} [{how}] {text}"


class Person:
    """One person's device: a matrix-nio client with end-to-end encryption, its store in the scratch directory."""

    def __init__(self, localpart, password, homeserver, store, device_name):
        self.localpart = localpart
        self.user_id = user_id(localpart)
        self.password = password
        self.device_name = device_name
        store.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(
            encryption_enabled=True, store_sync_tokens=True, max_limit_exceeded=None, max_timeouts=None, request_timeout=30)
        self.client = AsyncClient(homeserver, self.user_id, store_path=str(store), config=config)
        self.seen: dict[str, Seen] = {}
        #: Who invited this person to each room they were invited to.
        self.invited_by: dict[str, str] = {}
        self.syncs = 0
        self.sync_errors = []
        self.logged_in_at = 0
        self._task = None
        self._stopping = False

    def __repr__(self):
        return f"{self.user_id} ({self.device_name})"

    async def start(self):
        """Logs in with the password (a new device), starts syncing as online, and waits until the device's keys are
        uploaded."""
        response = await self.client.login(self.password, device_name=self.device_name)
        assert isinstance(response, LoginResponse), f"{self} could not log in: {response}"
        self.logged_in_at = int(time.time() * 1000)
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)
        self.client.add_event_callback(self._on_event, Event)
        self.client.add_response_callback(self._on_sync, SyncResponse)
        self._task = asyncio.get_running_loop().create_task(self._sync())
        await eventually(90, f"{self}'s first sync and key upload",
                         lambda: self.syncs > 0 and self.client.olm is not None and not self.client.should_upload_keys,
                         self.transcript)

    async def _sync(self):
        while not self._stopping:
            try:
                await self.client.sync_forever(timeout=5000, full_state=True, set_presence="online")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 — a sync that failed is tried again, as a client would
                self.sync_errors.append(repr(error))
                log.warning("%s: sync failed: %r", self, error)
                await asyncio.sleep(1)

    async def stop(self):
        self._stopping = True
        self.client.stop_sync_forever()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        await self.client.close()

    async def _on_sync(self, _response):
        self.syncs += 1

    async def _on_invite(self, room, event):
        if event.membership == "invite" and event.state_key == self.user_id:
            self.invited_by[room.room_id] = event.sender
            for _ in range(10):
                response = await self.client.join(room.room_id)
                if not isinstance(response, JoinError):
                    return
                log.warning("%s: joining %s failed: %s", self, room.room_id, response)
                await asyncio.sleep(2)

    async def _on_event(self, room, event):
        source = event.source if isinstance(event.source, dict) else {}
        content = source.get("content", {}) if isinstance(source.get("content"), dict) else {}
        relates = content.get("m.relates_to") or {}
        undecryptable = isinstance(event, MegolmEvent)
        self.seen[event.event_id] = Seen(
            room_id=room.room_id, event_id=event.event_id, sender=event.sender,
            type="m.room.encrypted" if undecryptable else source.get("type", type(event).__name__),
            body=getattr(event, "body", None) or content.get("body", "") or "",
            decrypted=bool(getattr(event, "decrypted", False)), undecryptable=undecryptable,
            room_encrypted=bool(room.encrypted), is_state="state_key" in source,
            timestamp=getattr(event, "server_timestamp", 0) or 0,
            reply_to=(relates.get("m.in_reply_to") or {}).get("event_id", ""), event=event)

    # MARK: Doing

    async def open_direct_room(self, other, encrypted):
        """Opens a direct room with `other` as Element does: is_direct, trusted_private_chat, and, encrypted, Megolm
        from the start (m.room.encryption in the initial state)."""
        initial_state = [{"type": "m.room.encryption", "state_key": "", "content": {"algorithm": MEGOLM}}] if encrypted else []
        response = await self.client.room_create(
            is_direct=True, invite=[other], preset=RoomPreset.trusted_private_chat, initial_state=initial_state)
        assert isinstance(response, RoomCreateResponse), f"{self} could not create a room: {response}"
        room_id = response.room_id
        await eventually(60, f"{self} to see the new room {room_id}",
                         lambda: room_id in self.client.rooms and self.client.rooms[room_id].encrypted == encrypted)
        return room_id

    async def say(self, room_id, text, reply_to=None):
        """Sends a text message (a Matrix reply if `reply_to`), encrypted for every device in an encrypted room."""
        content = {"msgtype": "m.text", "body": text}
        if reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        await eventually(60, f"{self} to know room {room_id}", lambda: room_id in self.client.rooms)
        response = await self.client.room_send(room_id, "m.room.message", content, ignore_unverified_devices=True)
        assert isinstance(response, RoomSendResponse), f"{self} could not send to {room_id}: {response}"
        return response.event_id

    async def send_undecryptable(self, room_id, text):
        """Sends a Megolm message whose session nobody else ever received: what a client that never shares its keys
        with the bot sends. Made with python-olm's OutboundGroupSession directly; returns the event id."""
        session = olm.OutboundGroupSession()
        payload = {"type": "m.room.message", "content": {"msgtype": "m.text", "body": text}, "room_id": room_id}
        content = {
            "algorithm": MEGOLM,
            "sender_key": self.client.olm.account.identity_keys["curve25519"],
            "device_id": self.client.device_id,
            "session_id": session.id,
            "ciphertext": session.encrypt(json.dumps(payload)),
        }
        method, path, data = Api.room_send(self.client.access_token, room_id, "m.room.encrypted", content, uuid.uuid4())
        response = await self.client._send(RoomSendResponse, method, path, data, (room_id,))
        assert isinstance(response, RoomSendResponse), f"{self} could not send the undecryptable message: {response}"
        return response.event_id

    # MARK: Reading

    def has_joined(self, room_id, other):
        room = self.client.rooms.get(room_id)
        return room is not None and other in room.users and other not in room.invited_users

    def messages(self, sender=None, room_id=None, after=0):
        """The text messages this device read (decrypted or in clear), oldest first."""
        found = [s for s in self.seen.values()
                 if s.type == "m.room.message" and not s.undecryptable and (sender is None or s.sender == sender)
                 and (room_id is None or s.room_id == room_id) and s.timestamp >= after]
        return sorted(found, key=lambda s: s.timestamp)

    def first(self, sender=None, room_id=None, startswith="", contains="", after=0):
        for seen in self.messages(sender, room_id, after):
            if seen.body.startswith(startswith) and contains in seen.body:
                return seen
        return None

    def retry_undecryptable(self):
        """Tries once more to decrypt what could not be (as a client does when a key comes late); returns what is
        still undecryptable."""
        for event_id, seen in list(self.seen.items()):
            if not seen.undecryptable:
                continue
            try:
                decrypted = self.client.decrypt_event(seen.event)
            except Exception:  # noqa: BLE001 — still not decryptable
                continue
            content = decrypted.source.get("content", {}) if isinstance(decrypted.source, dict) else {}
            self.seen[event_id] = Seen(
                room_id=seen.room_id, event_id=event_id, sender=seen.sender, type=decrypted.source.get("type", ""),
                body=getattr(decrypted, "body", None) or content.get("body", "") or "", decrypted=True,
                undecryptable=False, room_encrypted=True, is_state=False, timestamp=seen.timestamp,
                reply_to=((content.get("m.relates_to") or {}).get("m.in_reply_to") or {}).get("event_id", ""),
                event=decrypted)
        return [s for s in self.seen.values() if s.undecryptable]

    def transcript(self):
        lines = [f"{self} read (syncs: {self.syncs}, sync errors: {self.sync_errors[-3:]}):"]
        lines += [s.line() for s in sorted(self.seen.values(), key=lambda s: s.timestamp) if not s.is_state]
        for user, devices in (self.client.device_store.items() if self.client.olm else []):
            lines.append(f"  devices it knows of {user}: " + ", ".join(
                f"{d.device_id} ({d.trust_state.name}, ed25519 {d.ed25519[:10]}…)" for d in devices.values()))
        return "\n".join(lines)

    async def device_keys(self, of_user):
        """Every device of `of_user` with keys on the homeserver, by /keys/query: {device_id: ed25519 key}."""
        status, body = await asyncio.to_thread(
            http_json, "POST", f"{self.client.homeserver}/_matrix/client/v3/keys/query", self.client.access_token,
            {"device_keys": {of_user: []}})
        assert status == 200, f"/keys/query failed: {status} {body}"
        devices = body.get("device_keys", {}).get(of_user, {})
        return {device: keys.get("keys", {}).get(f"ed25519:{device}") for device, keys in devices.items()}


# MARK: - SkillRelay


def write_directory(directory, asker, specialists):
    """A small company in the import formats of Data/: the asker and the specialists, all real Matrix users, and the
    sample's Kubernetes topic with its alias k8s."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = ["handle,name,email,im_id,manager,admin,active",
            f"{asker},Asker {asker},{asker}@example.org,{user_id(asker)},,false,true"]
    rows += [f"{s},Specialist {s},{s}@example.org,{user_id(s)},{asker},false,true" for s in specialists]
    (directory / "employees.csv").write_text("\n".join(rows) + "\n")
    (directory / "topics.csv").write_text(
        "slug,name,parent,aliases,description\n"
        'infrastructure,Infrastructure,,,"Servers, networks and the platforms the company runs on."\n'
        'kubernetes,Kubernetes,infrastructure,k8s;kube,"Running containerised workloads on Kubernetes clusters, '
        'including Helm and operators."\n')
    (directory / "skills.csv").write_text(
        "handle,topic,level\n" + "".join(f"{s},kubernetes,{5 - i}\n" for i, s in enumerate(specialists)))


class Relay:
    """A real `skillrelay serve --im matrix` on a scratch database, with the bot's token and pickle key in its
    environment; its pid is kept where Scripts/matrix-e2e finds it, so that it is killed whatever happens."""

    def __init__(self, scratch, name, homeserver, bot_token, data, arguments, config=None):
        self.directory = scratch / name
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.db = self.directory / "relay.sqlite"
        self.log = self.directory / "relay.log"
        self.port = free_port()
        self.homeserver = homeserver
        self.bot_token = bot_token
        self.pickle_key = secrets.token_hex(32)
        self.data = data
        self.arguments = list(arguments)
        if config is not None:
            path = self.directory / "config.json"
            path.write_text(json.dumps(config))
            self.arguments += ["--config", str(path)]
        self.process = None
        self.starts = 0

    def start(self):
        """Starts it (again, on the same database and pickle key) and waits for /health."""
        environment = dict(os.environ)
        environment.update(
            SKILLRELAY_MATRIX_HOMESERVER=self.homeserver, SKILLRELAY_MATRIX_TOKEN=self.bot_token,
            SKILLRELAY_MATRIX_PICKLE_KEY=self.pickle_key)
        command = [BINARY, "serve", "--im", "matrix", "--db", str(self.db), "--port", str(self.port),
                   "--data", str(self.data)] + self.arguments
        self.starts += 1
        with open(self.log, "a") as output:
            output.write(f"\n===== start {self.starts}: {' '.join(command)}\n")
            output.flush()
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, env=environment,
                cwd=self.directory)
        (self.directory / "relay.pid").write_text(f"{self.process.pid}\n")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"skillrelay serve exited with {self.process.returncode}:\n{self.log_tail()}")
            status, _ = http_json("GET", f"http://127.0.0.1:{self.port}/health", timeout=2) if self._listening() else (0, None)
            if status == 200:
                return
            time.sleep(0.25)
        raise AssertionError(f"skillrelay serve did not answer /health within 60 s:\n{self.log_tail()}")

    def _listening(self):
        with socket.socket() as s:
            s.settimeout(1)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def kill(self):
        """SIGKILL: no goodbye, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)
        self.process = None

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)
        self.process = None

    def compliance_log(self):
        """`skillrelay log export`: every compliance entry, as dictionaries."""
        result = subprocess.run(
            [BINARY, "log", "export", "--db", str(self.db), "--since", "2000-01-01"],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, f"skillrelay log export failed: {result.stderr}"
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    def log_tail(self, lines=40):
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no log)"
        return f"--- the last {lines} lines of {self.name}'s log:\n" + "\n".join(text[-lines:])

    def keep_log(self):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        if self.log.exists():
            shutil.copy(self.log, ARTIFACTS / f"{self.name}.log")


def scratch_directory():
    """Where this run keeps its files: MATRIX_E2E_SCRATCH (Scripts/matrix-e2e makes and removes it), else a new
    temporary directory that the caller removes."""
    if os.environ.get("MATRIX_E2E_SCRATCH"):
        return Path(os.environ["MATRIX_E2E_SCRATCH"]), False
    return Path(tempfile.mkdtemp(prefix="skillrelay-matrix-e2e.")), True

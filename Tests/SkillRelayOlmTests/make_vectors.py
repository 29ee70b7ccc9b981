#!/usr/bin/env python3
"""Writes LibolmVectors.swift: Olm and Megolm messages made by libolm, for SkillRelayOlm to decrypt.

Produced with libolm 3.2.16 through python-olm (pip install python-olm==3.2.16, needs libolm's headers):

    python3 -m venv /tmp/olm-venv && /tmp/olm-venv/bin/pip install python-olm==3.2.16
    /tmp/olm-venv/bin/python Tests/SkillRelayOlmTests/make_vectors.py > Tests/SkillRelayOlmTests/LibolmVectors.swift
    swift format format -i Tests/SkillRelayOlmTests/LibolmVectors.swift

libolm picks its own random keys, so every run writes different (equally valid) constants.
The Swift side of the Olm vectors is an account whose private keys are fixed below; python-olm cannot import
private keys, so this script derives their public keys with a small X25519 (RFC 7748), checked against the RFC's vector.

To cover a ratchet step, the Swift account's reply (with a fixed new ratchet key) is computed here from the Olm spec,
using openssl(1) for AES-256-CBC, and only kept once libolm's session has decrypted it; libolm then answers on a new chain.
The Swift test must produce that reply byte for byte and decrypt libolm's answers.
"""

import base64
import hashlib
import hmac
import subprocess

import olm

P = 2**255 - 19


def x25519(scalar: bytes, u: bytes) -> bytes:
    """RFC 7748 X25519, the Montgomery ladder as written in section 5."""
    k = bytearray(scalar)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    k = int.from_bytes(k, "little")
    x1 = int.from_bytes(u, "little") & ((1 << 255) - 1)
    x2, z2, x3, z3, swap = 1, 0, x1, 1, 0
    for t in reversed(range(255)):
        bit = (k >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % P, (x2 - z2) % P
        aa, bb = a * a % P, b * b % P
        e = (aa - bb) % P
        c, d = (x3 + z3) % P, (x3 - z3) % P
        da, cb = d * a % P, c * b % P
        x3, z3 = (da + cb) ** 2 % P, x1 * (da - cb) ** 2 % P
        x2, z2 = aa * bb % P, e * (aa + 121665 * e) % P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, P - 2, P) % P).to_bytes(32, "little")


def public(private: bytes) -> bytes:
    return x25519(private, (9).to_bytes(32, "little"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 HKDF-SHA256; an empty salt is an empty HMAC key, as in libolm."""
    prk = hmac_sha256(salt, ikm)
    output, block, counter = b"", b"", 1
    while len(output) < length:
        block = hmac_sha256(prk, block + info + bytes([counter]))
        output += block
        counter += 1
    return output[:length]


def aes_256_cbc(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    return subprocess.run(
        ["openssl", "enc", "-aes-256-cbc", "-K", key.hex(), "-iv", iv.hex()], input=plaintext, capture_output=True, check=True
    ).stdout


# RFC 7748 section 6.1: Alice's key pair.
assert public(bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")) == bytes.fromhex(
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
)

# The Swift account ("Bob"): fixed private keys, SHA-256 of a label so they are easy to reproduce.
bob_curve_private = hashlib.sha256(b"skillrelay test bob curve25519").digest()
bob_ed_private = hashlib.sha256(b"skillrelay test bob ed25519").digest()
bob_otk_private = hashlib.sha256(b"skillrelay test bob one-time key 1").digest()
bob_curve_public = b64(public(bob_curve_private))
bob_otk_public = b64(public(bob_otk_private))

# (b) Olm: libolm's Alice starts a session to the Swift account and sends two pre-key messages.
alice = olm.Account()
alice_session = olm.OutboundSession(alice, bob_curve_public, bob_otk_public)
olm_plaintexts = ["Hello from libolm", "Second message, still pre-key 🔐"]
olm_messages = [alice_session.encrypt(text) for text in olm_plaintexts]
assert all(isinstance(message, olm.OlmPreKeyMessage) for message in olm_messages)

# The Swift account's reply, as the Olm spec says Bob computes it: first the root key from the pre-key message's triple
# Diffie-Hellman, then a ratchet step with Bob's new ratchet key against Alice's ratchet key, then the message keys.
pre_key = unb64(olm_messages[0].ciphertext)
assert pre_key[0:3] == b"\x03\x0a\x20" and pre_key[35:37] == b"\x12\x20" and pre_key[69:71] == b"\x1a\x20" and pre_key[103] == 0x22
alice_base, alice_identity = pre_key[37:69], pre_key[71:103]
inner = pre_key[105:] if pre_key[104] < 0x80 else pre_key[106:]
assert inner[0:3] == b"\x03\x0a\x20"
alice_ratchet = inner[3:35]
secret = x25519(bob_otk_private, alice_identity) + x25519(bob_curve_private, alice_base) + x25519(bob_otk_private, alice_base)
root_key = hkdf(secret, b"", b"OLM_ROOT", 64)[:32]
bob_ratchet_private = hashlib.sha256(b"skillrelay test bob ratchet key 1").digest()
chain_key = hkdf(x25519(bob_ratchet_private, alice_ratchet), root_key, b"OLM_RATCHET", 64)[32:]
message_keys = hkdf(hmac_sha256(chain_key, b"\x01"), b"", b"OLM_KEYS", 80)
reply_plaintext = "Reply from the Swift account"
reply_ciphertext = aes_256_cbc(message_keys[:32], message_keys[64:], reply_plaintext.encode())
assert len(reply_ciphertext) < 0x80
reply = b"\x03\x0a\x20" + public(bob_ratchet_private) + b"\x10\x00\x22" + bytes([len(reply_ciphertext)]) + reply_ciphertext
reply += hmac_sha256(message_keys[32:64], reply)[:8]
assert alice_session.decrypt(olm.OlmMessage(b64(reply))) == reply_plaintext
# libolm's Alice, having heard from Bob, ratchets to a new chain: normal (type 1) messages.
after_plaintexts = ["After the ratchet step", "And one more on the same chain"]
after_messages = [alice_session.encrypt(text) for text in after_plaintexts]
assert all(isinstance(message, olm.OlmMessage) for message in after_messages)

# libolm's own one-time key ids, to compare with ours.
key_ids = olm.Account()
key_ids.generate_one_time_keys(2)
libolm_key_ids = sorted(key_ids.one_time_keys["curve25519"].keys())

# (a) Megolm: libolm's outbound session, its session_key at index 0, messages at 0, 1 and 70000.
outbound = olm.OutboundGroupSession()
megolm_session_key = outbound.session_key
megolm_session_id = outbound.id
megolm_plaintexts = {0: "Megolm message 0", 1: "Megolm message 1 ✓"}
megolm_messages = {0: outbound.encrypt(megolm_plaintexts[0]), 1: outbound.encrypt(megolm_plaintexts[1])}
while outbound.message_index < 70000:
    outbound.encrypt("filler")
megolm_plaintexts[70000] = "Megolm message 70000"
megolm_messages[70000] = outbound.encrypt(megolm_plaintexts[70000])
session_key_at_70001 = outbound.session_key

# libolm's exports (v1) at indices that turn each ratchet part, to compare with our advance_to byte for byte.
# A fresh InboundGroupSession for each: libolm's export from an already advanced session can refuse a later index.
export_indices = [0, 1, 255, 256, 70000, 16777216, 16777217 + 65536 + 256 + 1, 2**31 - 1]
exports = {index: olm.InboundGroupSession(megolm_session_key).export_session(index) for index in export_indices}
inbound = olm.InboundGroupSession(megolm_session_key)
for index, text in megolm_plaintexts.items():
    assert inbound.decrypt(megolm_messages[index]) == (text, index)


def swift_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


print("// Generated by make_vectors.py with libolm 3.2.16 (python-olm); see that script for how. Do not edit by hand.")
print()
print("/// Messages and keys made by libolm, which SkillRelayOlm must read byte for byte.")
print("enum LibolmVectors {")
print("    // MARK: - Olm: libolm's Alice to a Swift account with fixed keys")
print()
print(f"    static let bobCurve25519Private = {swift_string(bob_curve_private.hex())}")
print(f"    static let bobEd25519Private = {swift_string(bob_ed_private.hex())}")
print(f"    static let bobOneTimePrivate = {swift_string(bob_otk_private.hex())}")
print(f"    static let bobCurve25519Key = {swift_string(bob_curve_public)}")
print(f"    static let bobOneTimeKey = {swift_string(bob_otk_public)}")
print(f"    static let aliceCurve25519Key = {swift_string(alice.identity_keys['curve25519'])}")
print(f"    static let olmSessionID = {swift_string(alice_session.id)}")
print("    static let olmMessages: [(type: Int, body: String, plaintext: String)] = [")
for message, text in zip(olm_messages, olm_plaintexts):
    print(f"        ({message.message_type}, {swift_string(message.ciphertext)}, {swift_string(text)}),")
print("    ]")
print(f"    static let bobRatchetPrivate = {swift_string(bob_ratchet_private.hex())}")
print(f"    static let bobReply = (body: {swift_string(b64(reply))}, plaintext: {swift_string(reply_plaintext)})")
print("    /// libolm's messages after it decrypted bobReply: a new chain.")
print("    static let olmMessagesAfterReply: [(type: Int, body: String, plaintext: String)] = [")
for message, text in zip(after_messages, after_plaintexts):
    print(f"        ({message.message_type}, {swift_string(message.ciphertext)}, {swift_string(text)}),")
print("    ]")
print(f"    static let libolmOneTimeKeyIDs = [{', '.join(swift_string(key) for key in libolm_key_ids)}]")
print()
print("    // MARK: - Megolm: libolm's OutboundGroupSession")
print()
print(f"    static let megolmSessionKey = {swift_string(megolm_session_key)}")
print(f"    static let megolmSessionID = {swift_string(megolm_session_id)}")
print(f"    static let megolmSessionKeyAt70001 = {swift_string(session_key_at_70001)}")
print("    static let megolmMessages: [(index: UInt32, ciphertext: String, plaintext: String)] = [")
for index, text in megolm_plaintexts.items():
    print(f"        ({index}, {swift_string(megolm_messages[index])}, {swift_string(text)}),")
print("    ]")
print("    /// libolm's InboundGroupSession.export_session(index) of the session above.")
print("    static let megolmExports: [(index: UInt32, export: String)] = [")
for index, text in exports.items():
    print(f"        ({index}, {swift_string(text)}),")
print("    ]")
print("}")

"""The client library against itself, before SkillRelay is in the room: people's matrix-nio devices exchange encrypted
messages on the test Synapse, a second device reads what is sent after it logged in, /keys/query shows each device's
keys, and a message made so that nobody has its session stays undecryptable. When this fails, the people's side
(venv, libolm, Synapse, the harness) is broken, not SkillRelay."""

from harness import eventually


def test_people_read_each_others_encrypted_messages(loop, people):
    alice, bob = people.asker, people.specialists[0]

    async def story():
        room = await alice.open_direct_room(bob.user_id, encrypted=True)
        await eventually(60, "bob to join alice's encrypted room", lambda: alice.has_joined(room, bob.user_id),
                         people.transcripts)
        await alice.say(room, "Hello Bob, this is end-to-end encrypted.")
        hello = await eventually(60, "bob to read alice's message", lambda: bob.first(alice.user_id, room, "Hello Bob"),
                                 people.transcripts)
        assert hello.decrypted and hello.room_encrypted, hello.line()
        await bob.say(room, "Hello Alice, I can read it.", reply_to=hello.event_id)
        reply = await eventually(60, "alice to read bob's reply", lambda: alice.first(bob.user_id, room, "Hello Alice"),
                                 people.transcripts)
        assert reply.decrypted and reply.reply_to == hello.event_id, reply.line()

        keys = await alice.device_keys(bob.user_id)
        assert keys == {bob.client.device_id: bob.client.olm.account.identity_keys["ed25519"]}

        unreadable = await alice.send_undecryptable(room, "Nobody has the key to this.")
        await eventually(60, "bob to get the message nobody can decrypt", lambda: unreadable in bob.seen, people.transcripts)
        assert [s.event_id for s in bob.retry_undecryptable()] == [unreadable]
        return room

    room = loop.run(story())

    phone = people.add_device(bob.localpart, "bob's phone")

    async def second_device():
        try:
            # nio shares a room's session with the devices it knew of when the session began: once alice's client has
            # seen the new device, a new session (as a client does when a member's devices change).
            await eventually(60, "alice's client to learn of bob's phone",
                             lambda: phone.client.device_id in alice.client.device_store[bob.user_id], people.transcripts)
            alice.client.invalidate_outbound_session(room)
            await alice.say(room, "Hello again, Bob's phone too.")
            again = await eventually(60, "bob's phone to read alice's message sent after it logged in",
                                     lambda: phone.first(alice.user_id, room, "Hello again"), people.transcripts)
            assert again.decrypted, again.line()
        finally:
            # Gone again (logged out: the device and its keys are deleted), so the stories start from one device each.
            await phone.client.logout()
            await phone.stop()
            people.devices.remove(phone)

    loop.run(second_device())

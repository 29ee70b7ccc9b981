"""The story in end-to-end encrypted rooms (issue 12), in order, on one SkillRelay with its own bot account:

(a) the asker opens an encrypted direct room with the bot, as Element does, and asks; the specialists read the question
    in encrypted rooms the bot opened, reply, and the asker reads the answers, in order; nothing the bot sends into an
    encrypted room is in clear;
(b) SkillRelay is killed (SIGKILL) mid-question and started again on the same database and pickle key: a reply sent
    while it was down and the next one still reach the asker, once each; the bot's device and keys are the same;
    nothing the bot sent is left undecryptable;
(d) the asker sends a message the bot cannot decrypt (its Megolm session was never shared with the bot); the bot says,
    readably, that it could not read it (checked after (c), which runs meanwhile);
(c) a specialist logs in on a second device, which reads the next question and answers from it;
(e) the compliance log holds the questions and answers in clear.
"""

import asyncio
import re
import time

import pytest

from harness import eventually
from story import QUESTION_PREFIX, WAIT, Story

QUESTION_1 = "How do I drain a node?"
ANSWERS_1 = ["Cordon it, then kubectl drain --ignore-daemonsets.", "Check the PodDisruptionBudgets first."]
QUESTION_2 = "Can we run etcd on spot instances?"
ANSWERS_2 = ["No, keep etcd on stable nodes.", "Only with a quorum spread across zones."]
QUESTION_3 = "Which CNI do we use?"
ANSWER_3 = "Cilium, since last spring."
UNREADABLE = "ask k8s: Is this message readable by the bot?"
# The bot's reply to a message it cannot decrypt, loosely: "I could not read your last message: …".
COULD_NOT_READ = re.compile(r"could(?: not|n['’]t) read", re.IGNORECASE)
# How long the bot may take to give up on the missing key and say so.
COULD_NOT_READ_WITHIN = 120
# Seconds between the second device's first sync and the next question.
PHONE_SETTLES = 5


@pytest.fixture(scope="module")
def story(people, scratch, homeserver):
    story = Story(people, scratch, homeserver, "bot")
    story.relay.start()
    yield story
    story.relay.stop()
    story.relay.keep_log()


def needs(story, *scenarios):
    missing = [s for s in scenarios if s not in story.passed]
    if missing:
        pytest.skip(f"needs scenario {', '.join(missing)} to have passed")


def test_a_encrypted_direct_room_question_and_answers(loop, story):
    async def scenario():
        room = await story.open_asker_room(encrypted=True)
        assert story.asker.client.rooms[room].encrypted
        await story.question_and_two_answers(QUESTION_1, ANSWERS_1, encrypted=True)
        answers = story.answers()
        assert [a.body.split("\n\n", 1)[1] for a in answers] == ANSWERS_1
        assert all(a.decrypted and a.room_encrypted for a in answers), "\n".join(a.line() for a in answers)
        assert story.plaintext_from_bot_in_encrypted_rooms() == [], "the bot wrote in clear into encrypted rooms"

    loop.run(scenario())
    story.passed.add("a")


def test_b_restart_keeps_the_bots_keys_and_sends_nothing_twice(loop, story):
    needs(story, "a")
    first, second, _ = story.specialists

    async def scenario():
        keys_before = await story.asker.device_keys(story.bot)
        assert keys_before, "the bot has no device with keys on the homeserver"

        await story.ask(QUESTION_2)
        questions = {d.user_id: await story.question_for(d, QUESTION_2, encrypted=True) for d in (first, second)}
        # Killed with the question out; the first reply is sent while SkillRelay is down.
        await asyncio.to_thread(story.relay.kill)
        await first.say(questions[first.user_id].room_id, ANSWERS_2[0], reply_to=questions[first.user_id].event_id)
        story.expected_answers.append(ANSWERS_2[0])
        await asyncio.to_thread(story.relay.start)
        found = await eventually(
            WAIT, f"the answer sent while SkillRelay was down (“{ANSWERS_2[0]}”) readable in the asker's room",
            lambda: next((a for a in story.answers() if a.body.endswith(ANSWERS_2[0])), None), story.context)
        assert found.body.startswith("Answer 1 of 2, from specialist ") and found.decrypted, found.line()
        await story.answer(second, questions[second.user_id], ANSWERS_2[1], rank=2)

        keys_after = await story.asker.device_keys(story.bot)
        assert keys_after == keys_before, "the bot's device or its keys changed with the restart"

        # Nothing twice: each answer once, each acknowledgement once, each question at most once per specialist (the
        # third specialist's copy of question 2 may still have been waiting to go out when SkillRelay was killed).
        bodies = [a.body.split("\n\n", 1)[1] for a in story.answers()]
        assert bodies == ANSWERS_1 + ANSWERS_2, f"the asker read {bodies}"
        acknowledgements = [s for s in story.asker.messages(story.bot, story.asker_room) if s.body.startswith("Asked ")]
        assert len(acknowledgements) == 2, "\n".join(s.line() for s in acknowledgements)
        for device in story.specialists:
            for question in (QUESTION_1, QUESTION_2):
                got = [s for s in device.messages(story.bot) if s.body.startswith(QUESTION_PREFIX) and question in s.body]
                allowed = {0, 1} if question == QUESTION_2 and device not in (first, second) else {1}
                assert len(got) in allowed, f"{device} read “{question}” {len(got)} times"
        # Nothing undecryptable, nothing in clear.
        await eventually(30, "everything the bot sent to be decryptable on every device",
                         lambda: not story.undecryptable_left(), lambda: "\n".join(story.undecryptable_left()))
        assert story.plaintext_from_bot_in_encrypted_rooms() == []

    loop.run(scenario())
    story.passed.add("b")


def test_d1_the_asker_sends_a_message_the_bot_cannot_decrypt(loop, story):
    needs(story, "a")

    async def scenario():
        event_id = await story.asker.send_undecryptable(story.asker_room, UNREADABLE)
        story.undecryptable.add(event_id)
        story.unreadable_sent_at = time.monotonic()
        story.unreadable_sent_ms = int(time.time() * 1000)

    loop.run(scenario())
    story.passed.add("d1")


def test_c_a_second_device_reads_the_next_question(loop, story, people):
    needs(story, "a")
    first = story.specialists[0]
    laptop_rooms = dict(story.rooms)
    phone = people.add_device(first.localpart, "specialist's phone")

    async def scenario():
        # The bot hears of the new device from its /sync (device_lists.changed) and then asks /keys/query: a moment for
        # that, as a person takes between logging in on a phone and the next question.
        await asyncio.sleep(PHONE_SETTLES)
        asked_ms = int(time.time() * 1000)
        await story.ask(QUESTION_3)
        question = await story.question_for(phone, QUESTION_3, encrypted=True)
        assert question.room_id == laptop_rooms[first.user_id]
        await story.question_for(first, QUESTION_3, encrypted=True)
        # The answer comes from the new device: its keys reach the bot too.
        await story.answer(phone, question, ANSWER_3, rank=1)
        await eventually(30, "everything the bot sent since to be decryptable on the new device",
                         lambda: not story.undecryptable_left([phone], after=asked_ms),
                         lambda: "\n".join(story.undecryptable_left([phone], after=asked_ms)))
        assert story.plaintext_from_bot_in_encrypted_rooms() == []

    loop.run(scenario())
    story.passed.add("c")


def test_d2_the_bot_says_it_could_not_read_the_message(loop, story):
    needs(story, "d1")

    async def scenario():
        waited = time.monotonic() - story.unreadable_sent_at
        reply = await eventually(
            max(COULD_NOT_READ_WITHIN - waited, 5), "the bot to tell the asker, readably, that it could not read the message",
            lambda: next((s for s in story.asker.messages(story.bot, story.asker_room, after=story.unreadable_sent_ms - 5000)
                          if COULD_NOT_READ.search(s.body)), None), story.context)
        assert reply.decrypted, f"the reply came in clear into an encrypted room: {reply.line()}"

    loop.run(scenario())


def test_e_the_compliance_log_has_the_messages_in_clear(story):
    needs(story, "a")
    texts = [entry.get("text") or "" for entry in story.relay.compliance_log()]
    wanted = [QUESTION_1, *ANSWERS_1] + ([QUESTION_2, *ANSWERS_2] if "b" in story.passed else [])
    missing = [text for text in wanted if not any(text in logged for logged in texts)]
    assert missing == [], f"not in the compliance log in clear: {missing}"



FOLLOW_UP = "Does that also hold on Kubernetes 1.29?"
FOLLOW_UP_REPLY = "Yes, with the same flags."


def test_f_follow_ups_travel_encrypted_both_ways(loop, story):
    """(f) Issue 15: the asker replies to an answer and the specialist to that follow-up; each reads the other's message
    decrypted, as a reply in their own encrypted room, and neither learns who the other is."""
    needs(story, "a")
    first = story.specialists[0]

    async def scenario():
        answer = next(a for a in story.answers() if a.body.endswith(ANSWERS_1[0]))
        await story.asker.say(story.asker_room, FOLLOW_UP, reply_to=answer.event_id)
        got = await eventually(
            WAIT, "the asker's follow-up readable on the first specialist's device",
            lambda: first.first(story.bot, story.rooms[first.user_id], "Follow-up from the asker", FOLLOW_UP), story.context)
        assert got.decrypted and got.room_encrypted, got.line()
        assert story.asker.localpart not in got.body, f"the follow-up names the asker: {got.body}"
        await first.say(got.room_id, FOLLOW_UP_REPLY, reply_to=got.event_id)
        back = await eventually(
            WAIT, "the specialist's reply readable in the asker's room",
            lambda: story.asker.first(story.bot, story.asker_room, "Follow-up from specialist", FOLLOW_UP_REPLY), story.context)
        assert back.decrypted and back.room_encrypted, back.line()
        assert back.reply_to == answer.event_id, f"not a reply to the answer: {back.line()}"
        assert first.localpart not in back.body, f"the reply names the specialist: {back.body}"
        assert story.plaintext_from_bot_in_encrypted_rooms() == []

    loop.run(scenario())
    story.passed.add("f")


def test_g_reveal_by_consent_then_an_encrypted_room_of_their_own(loop, story):
    """(g) Issue 15: the asker offers to reveal themselves to the second answerer, who accepts; both are invited to one
    new end-to-end encrypted room, the bot leaves it once they are in, and they talk there without it."""
    needs(story, "a")
    second = story.specialists[1]

    async def scenario():
        answer = next(a for a in story.answers() if a.body.endswith(ANSWERS_1[1]))
        await story.asker.say(story.asker_room, "reveal", reply_to=answer.event_id)
        offer = await eventually(
            WAIT, "the offer readable on the second specialist's device",
            lambda: second.first(story.bot, story.rooms[second.user_id], contains="would like to introduce themselves"), story.context)
        assert offer.decrypted, offer.line()
        assert story.asker.localpart not in offer.body, f"the offer names the asker: {offer.body}"
        await second.say(offer.room_id, "accept", reply_to=offer.event_id)

        def shared_room():
            known = {story.asker_room, *story.rooms.values()}
            mine = {room for room, inviter in story.asker.invited_by.items() if inviter == story.bot} - known
            theirs = {room for room, inviter in second.invited_by.items() if inviter == story.bot} - known
            return next(iter(mine & theirs), None)

        room = await eventually(WAIT, "one new room the bot invited both to", shared_room, story.context)
        await eventually(
            WAIT, "both in the new room, and the bot gone from it",
            lambda: story.asker.has_joined(room, second.user_id) and second.has_joined(room, story.asker.user_id)
            and story.bot not in story.asker.client.rooms[room].users, story.context)
        assert story.asker.client.rooms[room].encrypted, "the introduction room is not end-to-end encrypted"
        await story.asker.say(room, "Hello, and thanks again!")
        said = await eventually(
            WAIT, "the asker's first message readable by the specialist",
            lambda: second.first(story.asker.user_id, room, "Hello, and thanks again!"), story.context)
        assert said.decrypted, said.line()
        assert story.plaintext_from_bot_in_encrypted_rooms() == []

    loop.run(scenario())
    story.passed.add("g")

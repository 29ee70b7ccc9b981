"""(f) The story without encryption: the asker's direct room has no m.room.encryption, and the bot, told
`matrix.encryptRooms: false` in its config file, opens plain rooms for the specialists. This is what works without any
encryption in SkillRelay, so it also checks the harness against a SkillRelay from before encryption (run it with
MATRIX_E2E_NO_ENCRYPT_ROOMS_KEY=1 there: such a SkillRelay refuses the config key it does not know)."""

import os

import pytest

from story import Story


@pytest.fixture(scope="module")
def plain(people, scratch, homeserver):
    matrix = {} if os.environ.get("MATRIX_E2E_NO_ENCRYPT_ROOMS_KEY") == "1" else {"encryptRooms": False}
    story = Story(people, scratch, homeserver, "plainbot", config={"matrix": matrix})
    story.relay.start()
    yield story
    story.relay.stop()
    story.relay.keep_log()


def test_f_question_and_answers_in_plain_rooms(loop, plain):
    async def scenario():
        await plain.open_asker_room(encrypted=False)
        await plain.question_and_two_answers(
            "How do I drain a node without downtime?",
            ["Cordon it first, then kubectl drain --ignore-daemonsets.", "Check the PodDisruptionBudgets before you drain."],
            encrypted=False)
        assert [a.body.split("\n\n", 1)[1] for a in plain.answers()] == plain.expected_answers
        assert all(not a.decrypted for a in plain.answers())

    loop.run(scenario())

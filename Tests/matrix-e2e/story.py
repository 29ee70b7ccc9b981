"""The SkillRelay story on Matrix, as the people read it: the asker writes to the bot in a direct room they opened, the
bot sends the question to the specialists in rooms it opened, their replies come back to the asker as answers. Shared
by the plain-room and the encrypted stories; every check is on what a person's client showed them."""

from harness import Relay, eventually, register, user_id, write_directory

QUESTION_PREFIX = "A colleague asks about Kubernetes"
# Waves every 2 s (the first wave finds nobody reachable: the bot invites the specialists then, and the next wave reaches
# them once they joined); two answers close a question; enough budget (hourly and daily) for every question of the story.
RELAY_ARGUMENTS = ["--wave-interval", "2", "--max-waves", "30", "--max-answers", "2", "--hourly-budget", "20",
                   "--daily-budget", "20", "--log-level", "debug"]
# Generous: CI has 2 cores and runs suites side by side.
WAIT = 90


class Story:
    """One SkillRelay (its own bot account and database) and the people talking to it."""

    def __init__(self, people, scratch, homeserver, name, config=None):
        self.people = people
        self.asker = people.asker
        self.specialists = people.specialists
        self.bot_localpart = f"{people.handles[0].rsplit('-', 1)[0]}-{name}"
        self.bot = user_id(self.bot_localpart)
        bot_token = register(self.bot_localpart, f"password-{self.bot_localpart}", admin=True)
        data = scratch / f"{name}-directory"
        write_directory(data, people.handles[0], people.handles[1:])
        self.relay = Relay(scratch, name, homeserver, bot_token, data, RELAY_ARGUMENTS, config)
        self.asker_room = None
        #: Each person's room with the bot (by user id), as found from the questions they got.
        self.rooms = {}
        self.asked = []
        #: Answers the asker should have read, in order.
        self.expected_answers = []
        #: Events sent on purpose so that nobody can decrypt them.
        self.undecryptable = set()
        self.passed = set()

    def context(self):
        return self.people.transcripts() + "\n" + self.relay.log_tail()

    # MARK: - Steps

    async def open_asker_room(self, encrypted):
        """The asker opens a direct room with the bot (as Element does) and waits for the bot to join."""
        self.asker_room = await self.asker.open_direct_room(self.bot, encrypted=encrypted)
        await eventually(WAIT, f"the bot to join the asker's {'encrypted ' if encrypted else ''}direct room",
                         lambda: self.asker.has_joined(self.asker_room, self.bot), self.context)
        return self.asker_room

    async def ask(self, question):
        """The asker writes `ask k8s: …`; returns the bot's acknowledgement, as the asker read it."""
        after = max([s.timestamp for s in self.asker.messages(self.bot, self.asker_room)], default=0) + 1
        await self.asker.say(self.asker_room, f"ask k8s: {question}")
        self.asked.append(question)
        return await eventually(
            WAIT, f"the bot's acknowledgement of “ask k8s: {question}”, readable in the asker's room (silence means the "
                  "bot never read the asker's message)",
            lambda: self.asker.first(self.bot, self.asker_room, "Asked ", after=after), self.context)

    async def question_for(self, device, question, encrypted):
        """The question as `device` read it from the bot, in the person's room with the bot."""
        seen = await eventually(
            WAIT, f"“{question}” readable on {device}",
            lambda: device.first(self.bot, None, QUESTION_PREFIX, question), self.context)
        room = self.rooms.setdefault(device.user_id, seen.room_id)
        assert seen.room_id == room, f"{device} got the question in another room than before: {seen.line()}"
        assert seen.room_encrypted == encrypted, f"the room is {'not ' if encrypted else ''}encrypted: {seen.line()}"
        assert seen.decrypted == encrypted, f"the question came {'in clear' if encrypted else 'encrypted'}: {seen.line()}"
        assert self.asker.localpart not in seen.body, f"the question names the asker: {seen.body}"
        return seen

    async def answer(self, device, question, text, rank):
        """`device` replies to the question (a Matrix reply); waits until the asker reads it as answer `rank` of 2."""
        await device.say(question.room_id, text, reply_to=question.event_id)
        self.expected_answers.append(text)
        found = await eventually(
            WAIT, f"answer {rank} (“{text}”) readable in the asker's room",
            lambda: next((a for a in self.answers() if a.body.endswith(text)), None), self.context)
        assert found.body.startswith(f"Answer {rank} of 2, from specialist "), found.body
        assert device.localpart not in found.body, f"the answer names who gave it: {found.body}"
        return found

    def answers(self):
        """The answers the asker read from the bot, oldest first."""
        return [s for s in self.asker.messages(self.bot, self.asker_room) if s.body.startswith("Answer ")]

    async def question_and_two_answers(self, question, answers, encrypted):
        """Asks; every specialist gets the question; the first two reply, and their answers reach the asker in that
        order; the third is told the question is answered."""
        await self.ask(question)
        questions = {}
        for device in self.specialists:
            questions[device.user_id] = await self.question_for(device, question, encrypted)
            assert device.invited_by.get(questions[device.user_id].room_id) == self.bot, \
                f"{device} got the question in a room the bot did not open: {questions[device.user_id].line()}"
        first, second, third = self.specialists
        for rank, (device, text) in enumerate(((first, answers[0]), (second, answers[1])), start=1):
            await self.answer(device, questions[device.user_id], text, rank)
        await eventually(WAIT, f"{third} to read that the question about Kubernetes has been answered",
                         lambda: third.first(self.bot, self.rooms[third.user_id], "The question about Kubernetes has been answered",
                                             after=questions[third.user_id].timestamp), self.context)
        return questions

    # MARK: - Checks

    def plaintext_from_bot_in_encrypted_rooms(self):
        return [s.line() for device in self.people.devices for s in device.seen.values()
                if s.sender == self.bot and s.room_encrypted and not s.is_state and not s.decrypted and not s.undecryptable]

    def undecryptable_left(self, devices=None, after=0):
        """Events in the rooms with this story's bot that people's clients still cannot decrypt (after one more try),
        but those sent so on purpose."""
        rooms = {self.asker_room, *self.rooms.values()}
        left = []
        for device in devices or self.people.devices:
            left += [f"{device}: {s.line()}" for s in device.retry_undecryptable()
                     if s.room_id in rooms and s.event_id not in self.undecryptable and s.timestamp >= after]
        return left

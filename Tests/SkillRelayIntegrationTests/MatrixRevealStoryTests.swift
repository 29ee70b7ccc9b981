import Foundation
import Testing

extension SynapseStories {
    /// Reveal by consent on a real Synapse with a real SkillRelay process: nothing names either side until both agreed;
    /// then each learns the other's name and Matrix id, and the bot makes them a room of their own and invites both.
    @Suite struct MatrixRevealStoryTests {
        @Test func bothAgreeThenTheBotInvitesThemToARoomOfTheirOwn() async throws {
            let url = try #require(SynapseEnvironment.url)
            let bot = try MatrixUser.register("skillrelay", homeserver: url, admin: true)
            let lena = try MatrixUser.register("lena.weber", homeserver: url)
            let nikos = try MatrixUser.register("nikos.nikolaidis", homeserver: url)
            let relay = try RelayProcess(homeserver: url, botToken: bot.token, arguments: ["--max-answers", "1"])
            try await relay.start()
            defer { relay.kill() }
            let story = MatrixFollowUpStoryTests()
            var rooms: [String: String] = [:]
            for user in [lena, nikos] {
                let room = try await user.openDirectRoom(with: bot.userID)
                rooms[user.userID] = room
                _ = try await eventually(20, "the bot to join \(user.userID)'s room") {
                    try await user.joinedMembers(room).contains(bot.userID) ? true : nil
                }
            }
            try await nikos.setPresence("online")
            _ = try await eventually(20, "\(nikos.userID) to be online to the bot") {
                try await bot.presence(of: nikos.userID) == "online" ? true : nil
            }
            let lenaRoom = rooms[lena.userID]!
            let nikosRoom = rooms[nikos.userID]!

            try await lena.say("ask k8s: Who owns the ingress controllers?", in: lenaRoom)
            let question = try await eventually(30, "the question in Nikos's room") {
                try await story.botMessages(nikos, in: nikosRoom, bot: bot).last { $0.body.hasPrefix(MatrixFollowUpStoryTests.questionPrefix) }
            }
            try await nikos.say("The platform team; ask in #platform.", in: nikosRoom, replyingTo: question.id)
            let answer = try await eventually(30, "the answer in Lena's room") {
                try await story.botMessages(lena, in: lenaRoom, bot: bot).last { $0.body.hasPrefix("Answer 1 of 1") }
            }

            // Lena offers: Nikos is asked, without learning who she is.
            try await lena.say("reveal", in: lenaRoom, replyingTo: answer.id)
            let offer = try await eventually(30, "the offer in Nikos's room") {
                try await story.botMessages(nikos, in: nikosRoom, bot: bot).last { $0.body.contains("would like to introduce themselves") }
            }
            for trace in ["lena", "Weber", "@"] { #expect(!offer.body.contains(trace), "Nikos read '\(trace)' before agreeing: \(offer.body)") }
            // Invitations other stories may have left do not count.
            let earlier = Set(try await lena.invitedRooms()).union(try await nikos.invitedRooms())

            // Nikos accepts by replying to the offer: each learns the other, and both are invited to one new room.
            try await nikos.say("accept", in: nikosRoom, replyingTo: offer.id)
            let toLena = try await eventually(30, "the introduction in Lena's room") {
                try await story.botMessages(lena, in: lenaRoom, bot: bot).last { $0.body.contains("agreed to introduce yourselves") }
            }
            #expect(toLena.body.contains(nikos.userID))
            let toNikos = try await eventually(30, "the introduction in Nikos's room") {
                try await story.botMessages(nikos, in: nikosRoom, bot: bot).last { $0.body.contains("agreed to introduce yourselves") }
            }
            #expect(toNikos.body.contains(lena.userID))
            let shared = try await eventually(30, "both invited to one room") { () -> String? in
                let common = Set(try await lena.invitedRooms()).intersection(try await nikos.invitedRooms()).subtracting(earlier)
                return common.first
            }
            try await lena.join(shared)
            try await nikos.join(shared)
            let members = try await eventually(30, "both in the room, the bot gone") { () -> [String]? in
                let members = try await lena.joinedMembers(shared)
                return Set(members) == [lena.userID, nikos.userID] ? members : nil
            }
            #expect(!members.contains(bot.userID))
            // The room is theirs: they write in it, and the bot never did.
            try await lena.say("Hi Nikos, thanks again!", in: shared)
            let said = try await eventually(30, "Lena's message in the room") {
                let messages = try await nikos.messages(in: shared)
                return messages.contains { $0.body == "Hi Nikos, thanks again!" } ? messages : nil
            }
            #expect(!said.contains { $0.sender == bot.userID })
        }
    }
}

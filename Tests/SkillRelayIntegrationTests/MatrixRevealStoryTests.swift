import Foundation
import Testing

extension SynapseStories {
    /// Reveal by consent on a real Synapse with a real SkillRelay process: nothing names either side until both agreed;
    /// then each learns the other's name and Matrix id, and the bot makes them a room of their own and invites both.
    @Suite struct MatrixRevealStoryTests {
        @Test func bothAgreeThenTheBotInvitesThemToARoomOfTheirOwn() async throws {
            let story = try await AnsweredQuestionStory.start(
                asking: "Who owns the ingress controllers?", answer: "The platform team; ask in #platform.")
            defer { story.relay.kill() }
            let (bot, lena, nikos, lenaRoom, nikosRoom, answer) = (story.bot, story.lena, story.nikos, story.lenaRoom, story.nikosRoom, story.answer)

            // Lena offers: Nikos is asked, without learning who she is.
            try await lena.say("reveal", in: lenaRoom, replyingTo: answer.id)
            let offer = try await eventually(90, "the offer in Nikos's room") {
                try await story.toNikos().last { $0.body.contains("would like to introduce themselves") }
            }
            for trace in ["lena", "Weber", "@"] { #expect(!offer.body.contains(trace), "Nikos read '\(trace)' before agreeing: \(offer.body)") }
            // Invitations other stories may have left do not count.
            let earlier = Set(try await lena.invitedRooms()).union(try await nikos.invitedRooms())

            // Nikos accepts by replying to the offer: each learns the other, and both are invited to one new room.
            try await nikos.say("accept", in: nikosRoom, replyingTo: offer.id)
            let toLena = try await eventually(90, "the introduction in Lena's room") {
                try await story.toLena().last { $0.body.contains("agreed to introduce yourselves") }
            }
            #expect(toLena.body.contains(nikos.userID))
            let toNikos = try await eventually(90, "the introduction in Nikos's room") {
                try await story.toNikos().last { $0.body.contains("agreed to introduce yourselves") }
            }
            #expect(toNikos.body.contains(lena.userID))
            let shared = try await eventually(90, "both invited to one room") { () -> String? in
                let common = Set(try await lena.invitedRooms()).intersection(try await nikos.invitedRooms()).subtracting(earlier)
                return common.first
            }
            try await lena.join(shared)
            try await nikos.join(shared)
            let members = try await eventually(90, "both in the room, the bot gone") { () -> [String]? in
                let members = try await lena.joinedMembers(shared)
                return Set(members) == [lena.userID, nikos.userID] ? members : nil
            }
            #expect(!members.contains(bot.userID))
            // The room is theirs: they write in it, and the bot never did.
            try await lena.say("Hi Nikos, thanks again!", in: shared)
            let said = try await eventually(90, "Lena's message in the room") {
                let messages = try await nikos.messages(in: shared)
                return messages.contains { $0.body == "Hi Nikos, thanks again!" } ? messages : nil
            }
            #expect(!said.contains { $0.sender == bot.userID })
        }
    }
}

import Foundation
import Testing

extension SynapseStories {
    /// Follow-ups on a real Synapse with a real SkillRelay process: the asker replies to the relayed answer, the
    /// specialist replies to that follow-up, each reaching the other's room as a reply, with aliases only.
    @Suite struct MatrixFollowUpStoryTests {
        @Test func repliesToRepliesTravelBothWaysAsReplies() async throws {
            let story = try await AnsweredQuestionStory.start(
                asking: "How do I drain a node without downtime?", answer: "Cordon it, then kubectl drain.")
            defer { story.relay.kill() }
            let (lena, nikos, lenaRoom, nikosRoom, question, answer) =
                (story.lena, story.nikos, story.lenaRoom, story.nikosRoom, story.question, story.answer)

            // Lena replies to the answer: Nikos gets it as a reply to his question.
            try await lena.say("Does that also work on 1.29?", in: lenaRoom, replyingTo: answer.id)
            let toNikos = try await eventually(90, "the follow-up in Nikos's room") {
                try await story.toNikos().last { $0.body.hasPrefix("Follow-up from the asker") }
            }
            #expect(toNikos.body.contains("Does that also work on 1.29?"))
            #expect(toNikos.replyTo == question.id)

            // Nikos replies to the follow-up: Lena gets it as a reply to the answer.
            try await nikos.say("Yes. Which CNI do you run?", in: nikosRoom, replyingTo: toNikos.id)
            let toLena = try await eventually(90, "the follow-up in Lena's room") {
                try await story.toLena().last { $0.body.hasPrefix("Follow-up from specialist") }
            }
            #expect(toLena.body.contains("Yes. Which CNI do you run?"))
            #expect(toLena.replyTo == answer.id)

            // And a reply to that continues the thread, as a reply to Nikos's last message from it.
            try await lena.say("Cilium.", in: lenaRoom, replyingTo: toLena.id)
            let again = try await eventually(90, "the second follow-up in Nikos's room") { () -> (id: String, body: String, replyTo: String?)? in
                let found = try await story.toNikos().filter { $0.body.hasPrefix("Follow-up from the asker") }
                return found.count == 2 ? found[1] : nil
            }
            #expect(again.replyTo == toNikos.id)

            for message in try await story.toLena() {
                for trace in ["nikos", "Nikolaidis", "@"] { #expect(!message.body.contains(trace), "Lena read '\(trace)' in \(message.body)") }
            }
            for message in try await story.toNikos() {
                for trace in ["lena", "Weber", "@"] { #expect(!message.body.contains(trace), "Nikos read '\(trace)' in \(message.body)") }
            }
        }
    }
}

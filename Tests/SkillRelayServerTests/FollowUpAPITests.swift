import Foundation
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import Testing

@testable import SkillRelayServer

/// `POST /v1/questions/{id}/answers/{rank}/messages`, `POST /v1/inbox/{delivery}/messages`, and the threads in the
/// question's view, the inbox, both event streams and a bot's callback.
@Suite struct FollowUpAPITests {
    struct Asked: Decodable { var id: String }
    struct Message: Decodable, Equatable {
        var rank: Int
        var from: String
        var alias: String
        var text: String
    }
    struct Question: Decodable {
        struct Answer: Decodable {
            var rank: Int
            var alias: String
            var messages: [Message]?
        }
        var answers: [Answer]
        var threadOpenUntil: Date?
    }
    struct Inbox: Decodable {
        struct Item: Decodable {
            var id: String
            var rank: Int?
            var messages: [Message]
        }
        var items: [Item]
    }

    @Test func bothSidesWriteAndReadTheThread() async throws {
        let fixture = try await Fixture.make()
        let tokens = try await fixture.addSpecialists(2)
        let specialist = bearer(tokens["kube.specialist.01"]!)
        let other = bearer(tokens["kube.specialist.02"]!)
        let askerEvents = Collected()
        let specialistAlias = Collected()
        try await fixture.test { client in
            let id = try await client.execute(
                uri: "/v1/questions", method: .post, headers: fixture.headers(.deep),
                body: ByteBuffer(string: #"{"topic":"k8s","text":"Why does my pod restart?","maxAnswers":1}"#)
            ) { try decode(Asked.self, $0).id }
            let delivery = try await client.execute(uri: "/v1/inbox", method: .get, headers: specialist) { try decode(Inbox.self, $0).items[0].id }
            let theirs = try await client.execute(uri: "/v1/inbox", method: .get, headers: other) { try decode(Inbox.self, $0).items[0].id }
            // Before any answer there is no thread.
            try await client.execute(
                uri: "/v1/questions/\(id)/answers/1/messages", method: .post, headers: fixture.headers(.deep),
                body: ByteBuffer(string: #"{"text":"anyone?"}"#)
            ) { response in
                #expect(response.status == .notFound)
                #expect(response.apiError?.code == "answer_not_found")
            }
            try await client.execute(
                uri: "/v1/inbox/\(delivery)/answer", method: .post, headers: specialist, body: ByteBuffer(string: #"{"text":"Liveness probe."}"#)
            ) { #expect($0.status == .ok) }

            try await client.execute(
                uri: "/v1/questions/\(id)/answers/1/messages", method: .post, headers: fixture.headers(.deep),
                body: ByteBuffer(string: #"{"text":"Which timeout?"}"#)
            ) { response in
                #expect(response.status == .created)
                let message = try decode(Message.self, response)
                #expect(message == Message(rank: 1, from: "asker", alias: "you", text: "Which timeout?"))
            }
            try await client.execute(
                uri: "/v1/inbox/\(delivery)/messages", method: .post, headers: specialist, body: ByteBuffer(string: #"{"text":"periodSeconds"}"#)
            ) { response in
                #expect(response.status == .created)
                let message = try decode(Message.self, response)
                #expect(message == Message(rank: 1, from: "specialist", alias: "you", text: "periodSeconds"))
            }

            let view = try await client.execute(uri: "/v1/questions/\(id)", method: .get, headers: fixture.headers(.deep)) {
                try decode(Question.self, $0)
            }
            // The specialist's alias is their number within the question, whichever the wave made them.
            #expect(view.answers[0].alias.hasPrefix("specialist "))
            #expect(view.answers[0].messages?.map(\.alias) == ["you", view.answers[0].alias])
            specialistAlias.add(view.answers[0].alias)
            #expect(view.threadOpenUntil != nil)
            let item = try await client.execute(uri: "/v1/inbox", method: .get, headers: specialist) { try decode(Inbox.self, $0).items[0] }
            #expect(item.rank == 1)
            #expect(item.messages.map(\.alias) == ["the asker", "you"])
            #expect(item.messages.map(\.text) == ["Which timeout?", "periodSeconds"])
            try await client.execute(uri: "/v1/questions/\(id)/events", method: .get, headers: fixture.headers(.deep)) { response in
                askerEvents.add(response.text)
            }

            // Errors, each in the error shape.
            let failures: [(String, HTTPFields, String, HTTPResponse.Status, String)] = [
                ("/v1/questions/\(id)/answers/1/messages", fixture.headers(.r), #"{"text":"hi"}"#, .notFound, "question_not_found"),
                ("/v1/questions/\(id)/answers/1/messages", fixture.headers(.admin), #"{"text":"hi"}"#, .notFound, "question_not_found"),
                ("/v1/questions/\(id)/answers/2/messages", fixture.headers(.deep), #"{"text":"hi"}"#, .notFound, "answer_not_found"),
                ("/v1/questions/\(id)/answers/x/messages", fixture.headers(.deep), #"{"text":"hi"}"#, .notFound, "answer_not_found"),
                ("/v1/questions/\(id)/answers/1/messages", fixture.headers(.deep), #"{"text":""}"#, .unprocessableContent, "invalid_field"),
                ("/v1/questions/\(id)/answers/1/messages", fixture.headers(.deep), #"{"txt":"hi"}"#, .badRequest, "missing_field"),
                ("/v1/inbox/\(delivery)/messages", other, #"{"text":"hi"}"#, .notFound, "delivery_not_found"),
                ("/v1/inbox/\(theirs)/messages", other, #"{"text":"hi"}"#, .conflict, "no_thread"),
                ("/v1/inbox/\(delivery)/messages", fixture.headers(.bot), #"{"text":"hi"}"#, .forbidden, "forbidden"),
                ("/v1/inbox/\(delivery)/messages", fixture.headers(nil), #"{"text":"hi"}"#, .unauthorized, "unauthenticated"),
            ]
            for (uri, headers, body, status, code) in failures {
                try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == status, "\(uri) \(body)")
                    #expect(response.apiError?.code == code, "\(uri) \(body): \(response.text)")
                }
            }

            // A week after the question closed, the thread is closed.
            fixture.clock.advance(by: 7 * 86_400)
            try await client.execute(
                uri: "/v1/inbox/\(delivery)/messages", method: .post, headers: specialist, body: ByteBuffer(string: #"{"text":"still there?"}"#)
            ) { response in
                #expect(response.status == .conflict)
                #expect(response.apiError?.code == "thread_closed")
            }
        }
        // The asker's stream replays the thread after the answers.
        let stream = try #require(askerEvents.all.first)
        #expect(stream.contains("event: message\ndata: {\"alias\":\"you\",\"from\":\"asker\",\"rank\":1"))
        let alias = try #require(specialistAlias.all.first)
        #expect(stream.contains("event: message\ndata: {\"alias\":\"\(alias)\",\"from\":\"specialist\",\"rank\":1"))
    }

    @Test func aBotAskerWritesThroughTheAPIAndReadsFollowUpsAtItsCallback() async throws {
        let fixture = try await Fixture.make()
        let tokens = try await fixture.addSpecialists(1)
        let specialist = bearer(tokens["kube.specialist.01"]!)
        let live = fixture.questions.eventStreams.inboxEvents(handle: "kube.specialist.01")
        try await fixture.test { client in
            let id = try await client.execute(
                uri: "/v1/questions", method: .post, headers: fixture.headers(.bot),
                body: ByteBuffer(
                    string: #"{"topic":"k8s","text":"Is the cluster healthy?","maxAnswers":1,"callbackUrl":"https://bots.example.org/hook"}"#)
            ) { try decode(Asked.self, $0).id }
            let delivery = try await client.execute(uri: "/v1/inbox", method: .get, headers: specialist) { try decode(Inbox.self, $0).items[0].id }
            try await client.execute(
                uri: "/v1/inbox/\(delivery)/answer", method: .post, headers: specialist, body: ByteBuffer(string: #"{"text":"Yes."}"#)
            ) { #expect($0.status == .ok) }
            try await client.execute(
                uri: "/v1/questions/\(id)/answers/1/messages", method: .post, headers: fixture.headers(.bot),
                body: ByteBuffer(string: #"{"text":"And the nodes?"}"#)
            ) { #expect($0.status == .created) }
            try await client.execute(
                uri: "/v1/inbox/\(delivery)/messages", method: .post, headers: specialist, body: ByteBuffer(string: #"{"text":"All ready."}"#)
            ) { #expect($0.status == .created) }
        }
        await fixture.pump.flush()
        let posts = fixture.callbacks.posts.map(\.body)
        let followUp = try #require(posts.first { $0.contains("\"event\":\"follow_up\"") })
        // One specialist holds the question: they are specialist 1.
        #expect(followUp.contains("\"alias\":\"specialist 1\""))
        #expect(followUp.contains("\"text\":\"All ready.\""))
        // Only the specialist's message goes to the bot, not the bot's own.
        #expect(!posts.contains { $0.contains("And the nodes?") })
        // The specialist's inbox stream carried both messages of the thread.
        fixture.questions.eventStreams.finishAll()
        var messages: [String] = []
        for await event in live { if case .followUp(_, let message) = event { messages.append("\(message.alias): \(message.text)") } }
        #expect(messages == ["the asker: And the nodes?", "you: All ready."])
    }

    @Test func theAskersStreamGoesOnAfterCloseForFollowUpsWhenAsked() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(1)
        let specialist = try await fixture.caller("kube.specialist.01")
        let asked = try await fixture.questions.ask(QuestionDraft(asker: .employee("deep"), topic: "kubernetes", text: "Drain?", maxAnswers: 1))
        let delivery = try #require(try await fixture.questions.inbox(of: specialist).first).id
        _ = try await fixture.questions.answer(delivery: delivery, text: "kubectl drain", by: specialist)
        let done = Collected()
        let streamed = try await fixture.test { client in
            // Without the parameter the closed question's stream ends at once, as before.
            let plain = try await client.execute(uri: "/v1/questions/\(asked.id)/events", method: .get, headers: fixture.headers(.deep)) { $0.text }
            #expect(plain.hasSuffix("event: closed\ndata: {\"reason\":\"answered\"}\n\n"))
            try await client.execute(
                uri: "/v1/questions/\(asked.id)/events?followThreads=maybe", method: .get, headers: fixture.headers(.deep)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(response.apiError?.code == "invalid_parameter")
            }
            let reader = Task {
                defer { done.add("done") }
                return try await client.execute(
                    uri: "/v1/questions/\(asked.id)/events?followThreads=true", method: .get, headers: fixture.headers(.deep)
                ) { $0.text }
            }
            _ = try await fixture.questions.followUp(delivery: delivery, text: "One more thing", by: specialist)
            // The stream ends only when the server finishes it (as on shutdown): finish until the reader has its answer,
            // since a stream that subscribes after a finish would wait for the next one.
            while done.all.isEmpty {
                fixture.questions.eventStreams.finishAll()
                try await Task.sleep(for: .milliseconds(5))
            }
            return try await reader.value
        }
        #expect(streamed.contains("event: closed"))
        #expect(streamed.components(separatedBy: "One more thing").count == 2, "\(streamed)")
        #expect(streamed.contains(#""from":"specialist""#))
    }
}

import Foundation
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import SkillRelayStore
import Testing

@testable import SkillRelayServer

extension AnonymityTests {
    /// The same walk over follow-ups: the API's answers and views, both event streams, the IM messages either side
    /// receives and a bot's callbacks, for an employee asking through the IM and a bot asking with a callback.
    @Test func followUpsNameNeitherSide() async throws {
        let fixture = try await Fixture.make()
        let specialistTokens = try await fixture.addSpecialists(2)
        let asker = bearer(try await Self.addAsker(to: fixture))
        let askerSaw = Collected()
        let specialistsSaw = Collected()
        let inboxStreams = specialistTokens.keys.sorted().map { fixture.questions.eventStreams.inboxEvents(handle: $0) }
        let state = SQLiteIMState(database: fixture.database, clock: fixture.clock)
        let conversation = IMConversation(questions: fixture.questions, directory: fixture.store, state: state, clock: fixture.clock)

        // The employee asks through the IM (so follow-ups reach them there too); a bot asks with a callback.
        askerSaw.add(
            contentsOf: await conversation.handle(IncomingMessage(imID: "@quinn.asker:localhost", text: "ask k8s: Why does my pod restart?")))
        let question = try #require(try await fixture.questions.askedQuestions(by: try await fixture.caller("quinn.asker")).first).id
        let askerStream = fixture.questions.eventStreams.askerEvents(question: question)
        let deliveries = try await fixture.test { client in
            let botQuestion = try await client.execute(
                uri: "/v1/questions", method: .post, headers: fixture.headers(.bot),
                body: ByteBuffer(
                    string: #"{"topic":"k8s","text":"Is the cluster healthy?","maxAnswers":1,"callbackUrl":"https://bots.example.org/hook"}"#)
            ) { try decode(AnonymityTests.Asked.self, $0).id }
            // Both specialists answer both questions, and write on every thread they have (one has none on the bot's).
            var deliveries: [String] = []
            for handle in specialistTokens.keys.sorted() {
                let headers = bearer(specialistTokens[handle]!)
                let items = try await client.execute(uri: "/v1/inbox", method: .get, headers: headers) { try decode(Inbox.self, $0).items }
                for item in items {
                    deliveries.append(item.id)
                    try await client.execute(
                        uri: "/v1/inbox/\(item.id)/answer", method: .post, headers: headers, body: ByteBuffer(string: #"{"text":"Check the probe."}"#)
                    ) { specialistsSaw.add($0.text) }
                }
            }
            // The asker and the bot follow up on every answer.
            for rank in 1...2 {
                try await client.execute(
                    uri: "/v1/questions/\(question)/answers/\(rank)/messages", method: .post, headers: asker,
                    body: ByteBuffer(string: #"{"text":"Which probe, exactly?"}"#)
                ) { askerSaw.add($0.text) }
            }
            try await client.execute(
                uri: "/v1/questions/\(botQuestion)/answers/1/messages", method: .post, headers: fixture.headers(.bot),
                body: ByteBuffer(string: #"{"text":"Which node?"}"#)
            ) { #expect($0.status == .created) }
            for handle in specialistTokens.keys.sorted() {
                let headers = bearer(specialistTokens[handle]!)
                let items = try await client.execute(uri: "/v1/inbox", method: .get, headers: headers) { response in
                    specialistsSaw.add(response.text)
                    return try decode(Inbox.self, response).items
                }
                for item in items {
                    try await client.execute(
                        uri: "/v1/inbox/\(item.id)/messages", method: .post, headers: headers,
                        body: ByteBuffer(string: #"{"text":"The liveness one."}"#)
                    ) { specialistsSaw.add($0.text) }
                }
                try await client.execute(uri: "/v1/inbox", method: .get, headers: headers) { specialistsSaw.add($0.text) }
            }
            try await client.execute(uri: "/v1/questions/\(question)", method: .get, headers: asker) { askerSaw.add($0.text) }
            return deliveries
        }
        await fixture.pump.flush()
        let botSaw = fixture.callbacks.posts.map(\.body)
        // What the IM would carry to each side.
        for message in try await fixture.outboxMessages() {
            guard case .followUp(let followUp) = message else { continue }
            let text = IMConversation.followUpText(followUp)
            if followUp.recipientSide == .asker { askerSaw.add(text) } else { specialistsSaw.add(text) }
        }
        fixture.questions.eventStreams.finishAll()
        for await event in askerStream { askerSaw.add(EventEncoding.encode(event).text) }
        for stream in inboxStreams {
            for await event in stream { specialistsSaw.add(EventEncoding.encode(event).text) }
        }

        // Both sides did see the other's follow-ups.
        #expect(askerSaw.all.joined().contains("The liveness one."))
        #expect(askerSaw.all.contains { $0.hasPrefix("Follow-up from specialist") })
        #expect(specialistsSaw.all.joined().contains("Which probe, exactly?"))
        #expect(specialistsSaw.all.joined().contains("Which node?"))
        #expect(botSaw.contains { $0.contains("\"event\":\"follow_up\"") && $0.contains("The liveness one.") })

        var specialistTraces = deliveries + ["employee:", "specialistId", "employeeId", "handle", "imId", "email"]
        for handle in specialistTokens.keys {
            let index = Int(handle.suffix(2))!
            specialistTraces += [handle, "Specialist \(index) Person", "\(handle)@example.org", "@\(handle):localhost"]
        }
        for payload in askerSaw.all + botSaw {
            for trace in specialistTraces { #expect(!payload.contains(trace), "asker saw '\(trace)' in \(payload)") }
        }
        let askerTraces = [
            "quinn.asker", "Quinn Askwith", "quinn.asker@example.org", "@quinn.asker:localhost", question, "ci-bot", "bot:", "employee:", "asker",
        ]
        for payload in specialistsSaw.all {
            // The asker's alias and side are the one place the word may stand: what stands for them, not who.
            let scrubbed = payload.replacingOccurrences(of: "the asker", with: "").replacingOccurrences(of: #""from":"asker""#, with: "")
            for trace in askerTraces { #expect(!scrubbed.contains(trace), "a specialist saw '\(trace)' in \(payload)") }
        }
    }
}

extension Collected {
    func add(contentsOf items: [String]) { for item in items { add(item) } }
}

import Foundation
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import Synchronization
import Testing

@testable import SkillRelayServer

/// Walks every payload each side of a full flow receives and fails on anything that names the other side.
@Suite struct AnonymityTests {
    struct Asked: Decodable {
        var id: String
    }

    struct Inbox: Decodable {
        struct Item: Decodable {
            var id: String
            var rank: Int?
        }
        var items: [Item]
    }

    /// Adds the asker every walk follows, `quinn.asker`, whose handle, name, e-mail and IM id nothing a specialist
    /// receives may hold; returns their API token.
    static func addAsker(to fixture: Fixture) async throws -> String {
        _ = try await fixture.store.createEmployee(
            Employee(
                handle: "quinn.asker", name: "Quinn Askwith", email: "quinn.asker@example.org", imID: "@quinn.asker:localhost", managerHandle: "p"),
            by: .cliOperator)
        return try await fixture.store.createToken(for: .employee("quinn.asker"), by: .cliOperator).secret
    }

    @Test func neitherSideLearnsWhoTheOtherIs() async throws {
        let fixture = try await Fixture.make()
        let specialistTokens = try await fixture.addSpecialists(3)
        let asker = bearer(try await Self.addAsker(to: fixture))
        let askerSaw = Collected()
        let specialistsSaw = Collected()
        let inboxStreams = specialistTokens.keys.sorted().map { fixture.questions.eventStreams.inboxEvents(handle: $0) }

        let (questionID, botQuestionID, deliveryIDs) = try await fixture.test { client in
            // An employee asks; a bot asks with a callback.
            let asked = try await client.execute(
                uri: "/v1/questions", method: .post, headers: asker,
                body: ByteBuffer(string: #"{"topic":"k8s","text":"Why does my pod restart?","maxAnswers":2}"#)
            ) { response in
                askerSaw.add(response.text)
                return try decode(Asked.self, response).id
            }
            let botAsked = try await client.execute(
                uri: "/v1/questions", method: .post, headers: fixture.headers(.bot),
                body: ByteBuffer(
                    string: #"{"topic":"k8s","text":"Is the cluster healthy?","maxAnswers":1,"callbackUrl":"https://bots.example.org/hook"}"#)
            ) { try decode(Asked.self, $0).id }
            // Each specialist reads the inbox; two answer, one passes; a late answer is thanked.
            var deliveries: [String] = []
            for (index, handle) in specialistTokens.keys.sorted().enumerated() {
                let headers = bearer(specialistTokens[handle]!)
                let items = try await client.execute(uri: "/v1/inbox", method: .get, headers: headers) { response in
                    specialistsSaw.add(response.text)
                    return try decode(Inbox.self, response).items.map(\.id)
                }
                deliveries += items
                for item in items {
                    let path = index == 1 ? "/v1/inbox/\(item)/pass" : "/v1/inbox/\(item)/answer"
                    try await client.execute(
                        uri: path, method: .post, headers: headers, body: ByteBuffer(string: #"{"text":"Look at the liveness probe."}"#)
                    ) {
                        specialistsSaw.add($0.text)
                    }
                }
                try await client.execute(uri: "/v1/inbox", method: .get, headers: headers) { specialistsSaw.add($0.text) }
            }
            // The asker reads the question, its event stream, rates, and reads it again.
            try await client.execute(uri: "/v1/questions/\(asked)", method: .get, headers: asker) { askerSaw.add($0.text) }
            try await client.execute(uri: "/v1/questions/\(asked)/events", method: .get, headers: asker) { askerSaw.add($0.text) }
            try await client.execute(
                uri: "/v1/questions/\(asked)/ratings", method: .post, headers: asker, body: ByteBuffer(string: #"{"rank":1,"helpful":true}"#)
            ) {
                askerSaw.add($0.text)
            }
            // The asker offers to reveal themselves to both answerers; the first leaves the offer open, the second
            // declines it. Nothing one-sided names anyone.
            for rank in 1...2 {
                try await client.execute(uri: "/v1/questions/\(asked)/answers/\(rank)/reveal", method: .post, headers: asker) {
                    askerSaw.add($0.text)
                }
            }
            for handle in specialistTokens.keys.sorted() {
                let headers = bearer(specialistTokens[handle]!)
                let answered = try await client.execute(uri: "/v1/inbox", method: .get, headers: headers) { response in
                    specialistsSaw.add(response.text)
                    return try decode(Inbox.self, response).items.filter { $0.rank == 2 }.map(\.id)
                }
                for item in answered {
                    try await client.execute(uri: "/v1/inbox/\(item)/reveal/decline", method: .post, headers: headers) {
                        specialistsSaw.add($0.text)
                    }
                }
            }
            try await client.execute(uri: "/v1/questions/\(asked)", method: .get, headers: asker) { askerSaw.add($0.text) }
            return (asked, botAsked, deliveries)
        }
        await fixture.pump.flush()
        let botSaw = fixture.callbacks.posts.map(\.body)
        fixture.questions.eventStreams.finishAll()
        for stream in inboxStreams {
            for await event in stream { specialistsSaw.add(EventEncoding.encode(event).text) }
        }

        #expect(askerSaw.all.count == 7)
        #expect(askerSaw.all.last?.contains(#""state":"declined""#) == true && askerSaw.all.last?.contains(#""state":"offered""#) == true)
        #expect(specialistsSaw.all.count >= 16, "\(specialistsSaw.all)")
        #expect(botSaw.count == 2)
        #expect(askerSaw.all.joined().contains("Look at the liveness probe."))
        #expect(specialistsSaw.all.joined().contains("Why does my pod restart?"))

        var specialistTraces = deliveryIDs + ["employee:", "specialistId", "employeeId", "handle", "imId", "email"]
        for handle in specialistTokens.keys {
            let index = Int(handle.suffix(2))!
            specialistTraces += [handle, "Specialist \(index) Person", "\(handle)@example.org", "@\(handle):localhost"]
        }
        for payload in askerSaw.all + botSaw {
            for trace in specialistTraces { #expect(!payload.contains(trace), "asker saw '\(trace)' in \(payload)") }
        }
        let askerTraces = [
            "quinn.asker", "Quinn Askwith", "quinn.asker@example.org", "@quinn.asker:localhost", questionID, botQuestionID, "ci-bot", "bot:",
            "employee:", "asker",
        ]
        for payload in specialistsSaw.all {
            for trace in askerTraces { #expect(!payload.contains(trace), "a specialist saw '\(trace)' in \(payload)") }
        }
    }
}

/// Payloads collected from concurrently running closures.
final class Collected: Sendable {
    private let items = Mutex<[String]>([])
    func add(_ item: String) { items.withLock { $0.append(item) } }
    var all: [String] { items.withLock { $0 } }
}

import Foundation
import GRDB
import Logging
import PostgresNIO
import SkillRelayDomain
import SkillRelayLocalIM
import SkillRelayPostgres
import SkillRelayStore
import SkillRelayTestSupport

/// The sample company shipped in `Data/`.
let sampleDataDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Data").path

/// A fresh temporary directory, removed when the test is done with it.
final class Scratch: Sendable {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("skillrelay-copy-\(UUID().uuidString)")
    init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// Empty PostgreSQL databases on the test cluster (`SKILLRELAY_TEST_POSTGRES_URL`, started by Scripts/postgres.sh).
enum CopyTestPostgres {
    static var serverURL: String? { TestPostgres.serverURL }

    static let logger = Logger(label: "skillrelay.tests.db-copy")

    /// A new database of its own, created but not migrated: the copy opens (and so migrates) it.
    static func freshLocation() async throws -> PostgresLocation {
        try PostgresLocation(url: try await TestPostgres.emptyDatabaseURL())
    }
}

/// A SQLite SkillRelay database with the sample company and real activity, made through the real stores and the
/// question service as a running server makes it: questions asked, answered, passed, rated, followed up, a reveal
/// offered, one cancelled; tokens, a sign-in link, a web session, Matrix state, a kept setting and a sent outbox.
enum ActiveCompany {
    static let asker = "lena.weber"

    static func make(at path: String) async throws {
        let clock = TestClock()
        let database = try AppDatabase.open(path: path)
        let directory = SQLiteDirectoryStore(database: database, clock: clock)
        _ = try await directory.importDirectory(try ImportFiles.read(directory: sampleDataDirectory), by: .cliOperator)
        var settings = QuestionSettings()
        settings.maxDeliveryLagSeconds = 365 * 86_400
        let store = SQLiteQuestionStore(database: database, clock: clock, learning: RoutingLearning(settings: settings))
        let kubernetes = ["yannis.alexiou", "freja.bergstrom", "benjamin.reynolds", "nikos.nikolaidis", "henrik.andersen", "ayse.demir"]
        for handle in kubernetes { try await store.setLocalPresence(.available, of: handle, now: clock.now()) }
        let events = QuestionEvents()
        let dispatcher = OutboxDispatcher(
            store: store, messenger: LocalMessenger(events: events, clock: clock), callbacks: FakeCallbackSender(), clock: clock)
        let questions = try QuestionService(
            store: store, presence: LocalPresenceSource(store: store), settings: settings, clock: clock, events: events,
            outboxLag: dispatcher.lag)
        let asker = Caller(identity: .employee(asker))

        // A question answered twice, rated, followed up both ways, with a reveal offered.
        let first = try await questions.ask(QuestionDraft(asker: .employee(Self.asker), topic: "k8s", text: "How do I drain a node safely?"))
        _ = try await dispatcher.drain()
        var answered: [String] = []
        for handle in kubernetes {
            let caller = Caller(identity: .employee(handle))
            guard let item = try await questions.inbox(of: caller).first, answered.count < 2 else { continue }
            clock.advance(by: 37.123)
            _ = try await questions.answer(delivery: item.id, text: "Cordon it first (\(handle)).", by: caller)
            answered.append(handle)
        }
        _ = try await dispatcher.drain()
        try await questions.rate(first.id, rank: 1, helpful: true, by: asker)
        try await questions.rate(first.id, rank: 2, helpful: false, by: asker)
        _ = try await questions.followUp(question: first.id, rank: 1, text: "Does that work on 1.29?", by: asker)
        let specialist = Caller(identity: .employee(answered[0]))
        let delivery = try requireValue(try await questions.inbox(of: specialist).first { $0.rank == 1 })
        clock.advance(by: 0.001)
        _ = try await questions.followUp(delivery: delivery.id, text: "Yes, since 1.20.", by: specialist)
        _ = try await questions.reveal(.offer, question: first.id, rank: 1, by: asker)

        // One a specialist passes on, left open; one cancelled; one from a bot.
        clock.advance(by: 60)
        let second = try await questions.ask(QuestionDraft(asker: .employee("nikos.nikolaidis"), topic: "kubernetes", text: "Helm or Kustomize?"))
        _ = second
        for handle in kubernetes where handle != "nikos.nikolaidis" {
            let caller = Caller(identity: .employee(handle))
            if let item = try await questions.inbox(of: caller).first(where: { $0.state == .pending }) {
                try await questions.pass(delivery: item.id, by: caller)
                break
            }
        }
        let third = try await questions.ask(QuestionDraft(asker: .employee(Self.asker), topic: "kubernetes", text: "Never mind this one."))
        try await questions.cancel(third.id, by: asker)
        _ = try await questions.ask(
            QuestionDraft(asker: .bot("ci-bot"), topic: "kubernetes", text: "Which cluster is staging?", idempotencyKey: "build-42"))
        _ = try await dispatcher.drain()
        clock.advance(by: 600)
        _ = try await questions.tick()

        // Tokens, a sign-in link, a web session.
        _ = try await directory.createToken(for: .employee(Self.asker), by: .cliOperator)
        let revoked = try await directory.createToken(for: .bot("ci-bot"), by: .cliOperator)
        _ = try await directory.revokeToken(revoked.token.id, by: .cliOperator)
        let web = SQLiteWebStore(database: database)
        _ = try await SignInService(store: web, clock: clock).issueLink(for: Self.asker, by: .cliOperator)
        _ = try await web.insertSession(key: "session-key", value: Data("{\"handle\":\"lena.weber\"}".utf8), expiresAt: clock.now() + 3600)
        _ = try await web.insertSession(key: "forever", value: Data([0, 1, 2, 254, 255]), expiresAt: nil)

        // Matrix state: a room, the sync token, a handled event, sealed keys, an invitation.
        let im = SQLiteIMState(database: database, clock: clock)
        try await im.setConversation("!room1:example.org", with: "@lena.weber:example.org")
        try await im.setInboundCursor("s72594_4483_1934")
        _ = try await im.markHandled(event: "$event1:example.org")
        try await im.setSealedValues([IMKeyChange(namespace: "olm.account", key: "pickle", value: Data((0...255).map { UInt8($0) }))])
        try await im.setInvitation("!room2:example.org", to: "@nikos.nikolaidis:example.org", at: clock.now())

        _ = try database.setting("callbackSecret") { "whsec_copytest" }
        try await database.writer.write { db in
            // Ids handed out and deleted since (as a purge leaves them): the copy must not hand them out again.
            try db.execute(sql: "DELETE FROM auditEntry WHERE id = (SELECT max(id) FROM auditEntry)")
        }
    }
}

struct MissingValue: Error {}

/// `#require` for a fixture, outside a test function.
func requireValue<T>(_ value: T?) throws -> T {
    guard let value else { throw MissingValue() }
    return value
}

import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import SkillRelayStore
import SkillRelayTestSupport
import Testing

/// A database held by another writer (a backup, an operator's `sqlite3` shell in `BEGIN IMMEDIATE`) for longer than
/// the busy timeout: requests that need it answer 503 `database_busy` with `Retry-After`, never 500.
@Suite struct DatabaseBusyTests {
    /// A second connection to the file, holding its write lock from a thread of its own until released: what another
    /// program would do. Nothing here is timed; the lock is simply held until the test lets go.
    final class WriteLock: Sendable {
        private let release = DispatchSemaphore(value: 0)
        private let finished = DispatchSemaphore(value: 0)

        init(path: String) async throws {
            let queue = try DatabaseQueue(path: path)
            let release = release
            let finished = finished
            try await withCheckedThrowingContinuation { (locked: CheckedContinuation<Void, any Error>) in
                Thread {
                    do {
                        try queue.inDatabase { db in
                            try db.execute(sql: "BEGIN IMMEDIATE")
                            locked.resume()
                            release.wait()
                            try db.execute(sql: "ROLLBACK")
                        }
                    } catch {
                        locked.resume(throwing: error)
                    }
                    finished.signal()
                }.start()
            }
        }

        /// Lets go of the lock and waits until the connection has.
        func unlock() {
            release.signal()
            finished.wait()
        }
    }

    /// A scratch database file, removed with its WAL files at the end.
    static func withDatabaseFile(_ body: (String) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("skillrelay-busy-\(UUID().uuidString).sqlite").path
        defer {
            ScratchSQLiteFile.remove(path)
        }
        try await body(path)
    }

    @Test func anAPIWriteWhileAnotherProgramHoldsTheDatabaseAnswers503WithRetryAfter() async throws {
        try await Self.withDatabaseFile { path in
            // A short busy timeout: how long the store waits for the lock is all this test waits.
            let fixture = try await Fixture.make(path: path, busyTimeout: 0.2)
            try await fixture.test { client in
                // Before: the requests work (and the first use of m's and deep's tokens is recorded: that write is not what fails below).
                try await client.execute(
                    uri: "/v1/employees/r/skills/terraform", method: .put, headers: fixture.headers(.m), body: ByteBuffer(string: #"{"level":2}"#)
                ) { #expect($0.status == .ok) }
                try await client.execute(uri: "/v1/me", method: .get, headers: fixture.headers(.deep)) { #expect($0.status == .ok) }
                do {
                    let lock = try await WriteLock(path: path)
                    defer { lock.unlock() }
                    try await client.execute(
                        uri: "/v1/employees/r/skills/terraform", method: .put, headers: fixture.headers(.m), body: ByteBuffer(string: #"{"level":3}"#)
                    ) { response in
                        #expect(response.status == .serviceUnavailable)
                        #expect(response.headers[.retryAfter] == "5")
                        #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                        let error = try #require(response.apiError)
                        #expect(error.code == "database_busy")
                        #expect(error.message.contains("busy"))
                        #expect(!response.text.contains("SQLITE") && !response.text.contains("UPDATE") && !response.text.contains(path))
                    }
                    // A new question (the ask path's blocking write) and a token's first use (the authentication's write) too.
                    try await client.execute(
                        uri: "/v1/questions", method: .post, headers: fixture.headers(.deep),
                        body: ByteBuffer(string: #"{"topic":"k8s","text":"Why does the node drain hang?"}"#)
                    ) { response in
                        #expect(response.status == .serviceUnavailable)
                        #expect(response.apiError?.code == "database_busy")
                    }
                    try await client.execute(uri: "/v1/me", method: .get, headers: fixture.headers(.p)) { response in
                        #expect(response.status == .serviceUnavailable)
                        #expect(response.headers[.retryAfter] == "5")
                        #expect(response.apiError?.code == "database_busy")
                    }
                }
                // After: the same write goes through.
                try await client.execute(
                    uri: "/v1/employees/r/skills/terraform", method: .put, headers: fixture.headers(.m), body: ByteBuffer(string: #"{"level":3}"#)
                ) { #expect($0.status == .ok) }
            }
        }
    }

    @Test func aWebPageWhileAnotherProgramHoldsTheDatabaseAnswers503WithRetryAfter() async throws {
        try await Self.withDatabaseFile { path in
            let fixture = try await Fixture.make(path: path, busyTimeout: 0.2)
            try await fixture.test { client in
                let manager = try await WebPageTests.signIn("m", fixture: fixture, client: client)
                let lock = try await WriteLock(path: path)
                defer { lock.unlock() }
                let (headers, body) = manager.form(["topic": "terraform", "level": "4"])
                try await client.execute(uri: "/team/r/skills", method: .post, headers: headers, body: body) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.retryAfter] == "5")
                    #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                    #expect(response.text.contains("busy"))
                }
            }
        }
    }
}

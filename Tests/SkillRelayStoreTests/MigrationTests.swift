import Foundation
import GRDB
import SkillRelayTestSupport
import Testing

@testable import SkillRelayStore

@Suite struct MigrationTests {
    /// Shipped migrations, in order. A migration may be added at the end; none may be renamed, removed or reordered.
    static let shipped = [
        "v1 directory", "v2 questions", "v3 im state", "v4 web", "v5 questions by asker", "v6 outbox due by id",
        "v7 outbox destinations",
        "v8 im invitations and departures",
        "v9 im keys",
        "v10 list indexes",
        "v11 org paths",
    ]

    @Test func shippedMigrationsKeepTheirNamesAndOrder() {
        #expect(Array(AppDatabase.migrator.migrations.prefix(Self.shipped.count)) == Self.shipped)
    }

    @Test func aDatabaseFromTheFirstVersionOpensAndUpgradesKeepingItsData() async throws {
        let file = ScratchSQLiteFile("skillrelay")
        defer { file.remove() }
        let path = file.path
        do {
            // Given a database file left by the first release, with a person in it
            let old = try DatabasePool(path: path, configuration: AppDatabase.makeConfiguration())
            try AppDatabase.migrator.migrate(old, upTo: Self.shipped[0])
            try await old.write { db in
                try db.execute(
                    sql: "INSERT INTO employee (handle, name, email, createdAt, updatedAt) VALUES ('ada', 'Ada', 'ada@example.org', ?, ?)",
                    arguments: [Date(), Date()])
            }
            try old.close()
        }
        // When the current version opens it
        let database = try AppDatabase.open(path: path)
        // Then every migration has run and the data is intact
        let applied = try await database.writer.read { db in try AppDatabase.migrator.appliedIdentifiers(db) }
        #expect(applied == Set(AppDatabase.migrator.migrations))
        let handle = try await database.writer.read { db in try String.fetchOne(db, sql: "SELECT handle FROM employee") }
        #expect(handle == "ada")
    }

    @Test func openingTwiceDoesNotMigrateTwice() async throws {
        let file = ScratchSQLiteFile("skillrelay")
        defer { file.remove() }
        let path = file.path
        _ = try AppDatabase.open(path: path)
        let reopened = try AppDatabase.open(path: path)
        let mode = try await reopened.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test func theSchemaRefusesWhatTheDomainWouldNeverWrite() async throws {
        let database = try AppDatabase.inMemory()
        try await database.writer.write { db in
            try db.execute(sql: "INSERT INTO employee (handle, name, email, createdAt, updatedAt) VALUES ('ada', 'Ada', 'a@b.c', 0, 0)")
            try db.execute(sql: "INSERT INTO topic (slug, name, createdAt, updatedAt) VALUES ('sql', 'SQL', 0, 0)")
        }
        await #expect(throws: DatabaseError.self) {
            try await database.writer.write { db in
                try db.execute(sql: "INSERT INTO skill (employeeId, topicId, level, source, taggedAt) VALUES (1, 1, 6, 'manager', 0)")
            }
        }
        await #expect(throws: DatabaseError.self) {
            try await database.writer.write { db in
                try db.execute(sql: "INSERT INTO apiToken (publicId, secretHash, createdAt) VALUES ('tok_x', x'00', 0)")
            }
        }
    }
}

import Foundation
import GRDB

/// The SQLite database: opened in WAL mode, migrated to the current schema on open.
public struct AppDatabase: Sendable {
    /// Access to the database; every public store method is one transaction on it.
    public let writer: any DatabaseWriter
    /// The connections `blockingRead` uses, and nothing else. A file database needs readers of its own for them:
    /// GRDB's async reads hold a pooled reader across a suspension, so blocking waits for the same pool could take
    /// every cooperative thread while the readers wait for one to resume on (a deadlock seen under load).
    private var blockingReader: any DatabaseReader
    /// Whether this is the scratch database (`openScratch`): one connection that one caller uses one call at a time.
    /// There two things GRDB does for every other database cost more than the work:
    /// - the read-only guard: on one connection it is `PRAGMA query_only` on and off around every read, and SQLite
    ///   expires every prepared statement of the connection when a flag pragma runs, so each cached statement was
    ///   compiled again at its next use (40 % of the simulation's CPU). Reads run in a deferred transaction instead,
    ///   just as isolated on one serial connection. A pool's read-only readers never pay the guard, and the tests'
    ///   in-memory databases keep it, to catch a write inside a read;
    /// - the async hand-off to GRDB's queue and back, which woke a thread twice a call (a fifth of the simulation's
    ///   time). Reads and writes run on the calling thread instead. A server's callers keep the hand-off, which never
    ///   holds a cooperative thread while another connection works.
    private var isScratch = false

    /// Wraps a database connection and migrates it.
    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        self.blockingReader = writer
        try Self.migrator.migrate(writer)
    }

    /// How long a statement waits for another connection's lock before it fails with SQLITE_BUSY (which the server
    /// answers with 503 and `Retry-After`).
    public static let defaultBusyTimeout: TimeInterval = 5

    /// Opens (creating if needed) the database file at `path`, with a pool of readers beside the writer and a
    /// read-only pool for blocking reads.
    public static func open(path: String, busyTimeout: TimeInterval = defaultBusyTimeout) throws -> AppDatabase {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var database = try AppDatabase(DatabasePool(path: path, configuration: makeConfiguration(busyTimeout: busyTimeout)))
        var readOnly = makeConfiguration(busyTimeout: busyTimeout)
        readOnly.readonly = true
        database.blockingReader = try DatabasePool(path: path, configuration: readOnly)
        return database
    }

    /// Opens (creating if needed) a throw-away database file that one process alone uses, one call at a time: the
    /// simulation's. The schema, SQL and transactions are `open`'s; what differs is what only a deployment needs. One
    /// connection (a `DatabaseQueue`) instead of a WAL pool, so reads see a warm page cache instead of one every
    /// write invalidated, and blocking reads run on the calling thread. No durability: the rollback journal in memory
    /// and `synchronous = OFF` (a crash loses the file, which is deleted afterwards anyway).
    public static func openScratch(path: String) throws -> AppDatabase {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = makeConfiguration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = MEMORY")
            try db.execute(sql: "PRAGMA synchronous = OFF")
            // One connection: it keeps the file lock instead of taking and dropping it (two system calls) every
            // transaction, and a page cache that holds a simulated week's database.
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        var database = try AppDatabase(DatabaseQueue(path: path, configuration: configuration))
        database.isScratch = true
        return database
    }

    /// An empty in-memory database with the production configuration, for tests.
    public static func inMemory() throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(configuration: makeConfiguration()))
    }

    /// The configuration every connection uses.
    public static func makeConfiguration(busyTimeout: TimeInterval = defaultBusyTimeout) -> Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Writers wait for each other instead of failing at once with SQLITE_BUSY.
        configuration.busyMode = .timeout(busyTimeout)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Statement journals (an upsert keeps one, to undo just that statement) in memory, not in a temporary
            // file: a file meant about a dozen write calls a row (13 million for a 1M-skill import).
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        return configuration
    }

    /// Reads in one transaction, as `DatabaseReader.read` does (on the scratch database, on the calling thread and
    /// without the read-only guard).
    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        if isScratch { return try blockingRead(body) }
        return try await writer.read(body)
    }

    /// Writes in one transaction, as `DatabaseWriter.write` does (on the scratch database, on the calling thread).
    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        if isScratch { return try blockingWrite(body) }
        return try await writer.write(body)
    }

    /// A read that blocks the calling thread, for the few short queries on hot paths: GRDB's async read hands off
    /// between threads at a cost (hundreds of microseconds under load) larger than those queries take.
    func blockingRead<T>(_ body: (Database) throws -> T) throws -> T {
        guard isScratch else { return try blockingReader.read(body) }
        return try blockingReader.unsafeRead { db in try Self.inReadTransaction(db, body) }
    }

    /// `body` in a deferred transaction of its own, or in the one already open.
    private static func inReadTransaction<T>(_ db: Database, _ body: (Database) throws -> T) throws -> T {
        guard !db.isInsideTransaction else { return try body(db) }
        try db.beginTransaction(.deferred)
        do {
            let result = try body(db)
            try db.commit()
            return result
        } catch {
            try? db.rollback()
            throw error
        }
    }

    /// `blockingRead` without the surrounding transaction, for a read that is a single statement: one statement is
    /// atomic on its own, so the BEGIN and COMMIT would only add two round trips into SQLite.
    func blockingSingleStatementRead<T>(_ body: (Database) throws -> T) throws -> T {
        try blockingReader.unsafeRead(body)
    }

    /// A write that blocks the calling thread, for the ask path's one short transaction. Safe beside async writes:
    /// those run wholly on the writer's queue and never hold it across a suspension.
    func blockingWrite<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.write(body)
    }

    /// A kept value, made by `make` and stored the first time it is asked for.
    public func setting(_ key: String, makingWith make: @Sendable () -> String) throws -> String {
        try writer.write { db in
            if let value = try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = ?", arguments: [key]) { return value }
            let value = make()
            try db.execute(sql: "INSERT INTO setting (key, value) VALUES (?, ?)", arguments: [key, value])
            return value
        }
    }
}

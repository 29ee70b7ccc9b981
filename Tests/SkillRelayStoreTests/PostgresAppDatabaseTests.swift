import Foundation
import PostgresNIO
import SkillRelayTestSupport
import Testing

@testable import SkillRelayPostgres

@Suite("PostgreSQL: opening, migrating, the schema's own rules", .enabled(if: TestPostgres.serverURL != nil))
struct PostgresDatabaseTests {
    @Test func urlsAreReadOrRefusedWithAReason() throws {
        let location = try PostgresLocation(url: "postgres://relay:s%40cret@db.example:6543/skills?sslmode=require")
        #expect(location.host == "db.example")
        #expect(location.port == 6543)
        #expect(location.username == "relay")
        #expect(location.password == "s@cret")
        #expect(location.database == "skills")
        #expect(location.tls == .require)
        #expect(!location.description.contains("cret"))
        #expect(try PostgresLocation(url: location.url) == location)
        for bad in [
            "postgres://db.example/skills", "postgres://relay@db.example", "mysql://relay@db/x", "postgres://relay@db/x?sslmode=maybe",
            "postgres://relay@/skills", "postgres://relay@/skills?host=/run/pg&port=http", "postgres://relay@/skills?host=/run/pg&port=70000",
            "postgres://relay@/skills?hostaddr=127.0.0.1",
        ] {
            #expect(throws: PostgresSetupError.self) { try PostgresLocation(url: bad) }
        }
        #expect(location.socketDirectory == nil)
    }

    /// libpq's two ways of naming a Unix-domain socket's directory: a host that begins with a slash, percent-encoded, or
    /// the `host` parameter (with `port`, which names the socket's file).
    @Test func aHostThatIsADirectoryIsAUnixDomainSocket() throws {
        let encoded = try PostgresLocation(url: "postgres://relay@%2Fvar%2Frun%2Fpostgresql/skills")
        #expect(encoded.socketDirectory == "/var/run/postgresql")
        #expect(encoded.port == 5432)
        #expect(encoded.password == nil)
        let parameter = try PostgresLocation(url: "postgres://relay:s%40cret@/skills?host=/run/my%20pg&port=5433&sslmode=disable")
        #expect(parameter.socketDirectory == "/run/my pg")
        #expect(parameter.port == 5433)
        #expect(parameter.password == "s@cret")
        #expect(PostgresLocation.socketPath(in: "/run/my pg", port: 5433) == "/run/my pg/.s.PGSQL.5433")
        #expect(PostgresLocation.socketPath(in: "/run/pg/", port: 5432) == "/run/pg/.s.PGSQL.5432")
        #expect(parameter.description == "postgres://relay:***@/skills?host=/run/my pg&port=5433")
        #expect(try PostgresLocation(url: parameter.url) == parameter)
        #expect(try PostgresLocation(url: encoded.url) == encoded)
        // The parameter wins over the URL's host, as in libpq.
        #expect(try PostgresLocation(url: "postgres://relay@db.example/skills?host=/run/pg").socketDirectory == "/run/pg")
        #expect(try PostgresLocation(url: "postgres://relay@db.example/skills?port=6000").port == 6000)
    }

    @Test func aWrongPasswordIsRefusedAndAClosedPortUnreachable() async throws {
        let good = try PostgresLocation(url: try #require(TestPostgres.serverURL))
        var wrong = good
        wrong.password = "not-the-password"
        do {
            _ = try await PostgresAppDatabase.open(url: wrong.url)
            Issue.record("opened with a wrong password")
        } catch let error as PostgresSetupError {
            guard case .refused(_, let why) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(why.contains("password"))
            #expect(!error.description.contains("not-the-password"))
        }
        var closed = good
        closed.port = try Self.closedPort()
        do {
            _ = try await PostgresAppDatabase.open(url: closed.url)
            Issue.record("opened a closed port")
        } catch let error as PostgresSetupError {
            guard case .unreachable = error else {
                Issue.record("\(error)")
                return
            }
        }
    }

    @Test func instancesStartedTogetherMigrateOnce() async throws {
        let url = try #require(TestPostgres.serverURL)
        let name = "test_together_\(UInt32.random(in: 0...UInt32.max))"
        try await TestPostgres.admin(url) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: TestPostgres.logger)
        }
        let target = try PostgresLocation(url: url).with(database: name).url
        let databases = try await withThrowingTaskGroup(of: PostgresAppDatabase.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresAppDatabase.open(url: target, maximumConnections: 2) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let applied = try await databases[0].appliedMigrations()
        #expect(applied.count == Set(applied).count)
        #expect(applied.first == "pg v1 schema as of SQLite v18")
        for database in databases { await database.close() }
    }

    @Test func theOrgPathAndHeadcountsFollowMovesAndLeavers() async throws {
        let database = try await TestPostgres.freshDatabase()
        defer { Task { await database.close() } }
        let now = Date()
        try await database.write { connection in
            for (id, manager) in [(1, nil), (2, 1), (3, 2), (4, 2), (5, 1)] as [(Int, Int?)] {
                try await connection.query(
                    """
                    INSERT INTO employee (id, handle, name, email, managerId, createdAt, updatedAt)
                    VALUES (\(id), \("p\(id)"), \("Person \(id)"), \("p\(id)@example.com"), \(manager), \(now), \(now))
                    """, logger: TestPostgres.logger)
            }
        }
        #expect(try await Self.paths(database) == [1: "/1/", 2: "/1/2/", 3: "/1/2/3/", 4: "/1/2/4/", 5: "/1/5/"])
        #expect(try await Self.below(database) == [1: 4, 2: 2, 3: 0, 4: 0, 5: 0])
        try await database.write { connection in
            try await connection.query("UPDATE employee SET managerId = 5 WHERE id = 2", logger: TestPostgres.logger)
        }
        #expect(try await Self.paths(database) == [1: "/1/", 2: "/1/5/2/", 3: "/1/5/2/3/", 4: "/1/5/2/4/", 5: "/1/5/"])
        #expect(try await Self.below(database) == [1: 4, 2: 2, 3: 0, 4: 0, 5: 3])
        try await database.write { connection in
            try await connection.query("UPDATE employee SET isActive = false WHERE id = 3", logger: TestPostgres.logger)
            try await connection.query("DELETE FROM employee WHERE id = 4", logger: TestPostgres.logger)
        }
        #expect(try await Self.below(database) == [1: 2, 2: 0, 3: 0, 5: 1])
    }

    @Test func aBulkLoadLeavesPathsAndCountsToOneRebuildAndOnlyInItsTransaction() async throws {
        let database = try await TestPostgres.freshDatabase()
        defer { Task { await database.close() } }
        let now = Date()
        let during = try await database.write { connection in
            try await PostgresBulkLoad.start(on: connection, logger: TestPostgres.logger)
            for (id, manager, active) in [(1, nil, true), (2, 1, true), (3, 2, true), (4, 2, false), (5, 1, true), (6, 4, true)]
                as [(Int, Int?, Bool)]
            {
                try await connection.query(
                    """
                    INSERT INTO employee (id, handle, name, email, managerId, isActive, createdAt, updatedAt)
                    VALUES (\(id), \("p\(id)"), \("Person \(id)"), \("p\(id)@example.com"), \(manager), \(active), \(now), \(now))
                    """, logger: TestPostgres.logger)
            }
            try await connection.query("UPDATE employee SET managerId = 5 WHERE id = 2", logger: TestPostgres.logger)
            var counts: [Int] = []
            for try await count in try await connection.query("SELECT peopleBelow FROM employee ORDER BY id", logger: TestPostgres.logger)
                .decode(Int.self)
            {
                counts.append(count)
            }
            try await PostgresBulkLoad.finish(on: connection, logger: TestPostgres.logger)
            return counts
        }
        #expect(during == [0, 0, 0, 0, 0, 0])
        #expect(try await Self.paths(database) == [1: "/1/", 2: "/1/5/2/", 3: "/1/5/2/3/", 4: "/1/5/2/4/", 5: "/1/5/", 6: "/1/5/2/4/6/"])
        #expect(try await Self.below(database) == [1: 4, 2: 2, 3: 0, 4: 1, 5: 3, 6: 0])
        // The next transaction, on whichever pooled connection, keeps them row by row again.
        try await database.write { connection in
            try await connection.query("UPDATE employee SET managerId = 1 WHERE id = 4", logger: TestPostgres.logger)
        }
        #expect(try await Self.paths(database)[6] == "/1/4/6/")
        #expect(try await Self.below(database) == [1: 4, 2: 1, 3: 0, 4: 1, 5: 2, 6: 0])
    }

    @Test func topicAliasesAreSearchable() async throws {
        let database = try await TestPostgres.freshDatabase()
        defer { Task { await database.close() } }
        let now = Date()
        let hits = try await database.write { connection in
            try await connection.query(
                "INSERT INTO topic (id, slug, name, createdAt, updatedAt) VALUES (1, 'kubernetes', 'Kubernetes', \(now), \(now))",
                logger: TestPostgres.logger)
            try await connection.query("INSERT INTO topicAlias (alias, topicId) VALUES ('k8s', 1), ('kube', 1)", logger: TestPostgres.logger)
            var ids: [Int64] = []
            for try await id in try await connection.query(
                "SELECT id FROM topic WHERE search @@ plainto_tsquery('simple', 'k8s')", logger: TestPostgres.logger
            ).decode(Int64.self) {
                ids.append(id)
            }
            return ids
        }
        #expect(hits == [1])
    }

    private static func paths(_ database: PostgresAppDatabase) async throws -> [Int: String] {
        try await database.read { connection in
            var paths: [Int: String] = [:]
            for try await (id, path) in try await connection.query("SELECT id, orgPath FROM employee", logger: TestPostgres.logger)
                .decode((Int, String).self)
            {
                paths[id] = path
            }
            return paths
        }
    }

    private static func below(_ database: PostgresAppDatabase) async throws -> [Int: Int] {
        try await database.read { connection in
            var below: [Int: Int] = [:]
            for try await (id, count) in try await connection.query("SELECT id, peopleBelow FROM employee", logger: TestPostgres.logger)
                .decode((Int, Int).self)
            {
                below[id] = count
            }
            return below
        }
    }

    /// A connection whose server stops answering without a word (its process stopped here, as a machine gone or a
    /// network that drops it silently would leave it) is closed by the pool's heartbeat and replaced, so no request
    /// waits on it.
    @Test func aPooledConnectionThatStopsAnsweringIsReplaced() async throws {
        let url = try #require(TestPostgres.serverURL)
        let migrated = try await TestPostgres.freshDatabase()
        let location = migrated.location
        await migrated.close()
        @Sendable func poolBackends() async throws -> Set<Int32> {
            try await TestPostgres.admin(url) { connection in
                let rows = try await connection.query(
                    """
                    SELECT pid FROM pg_stat_activity
                    WHERE datname = \(location.database) AND application_name = \(PostgresAppDatabase.poolApplicationName)
                    """, logger: TestPostgres.logger)
                var pids: Set<Int32> = []
                for try await pid in rows.decode(Int32.self) { pids.insert(pid) }
                return pids
            }
        }
        // The migrating pool's server processes gone, so that those counted below are the new pool's.
        try await withDeadline(seconds: 60, "the first pool's connections to end") {
            while try await !poolBackends().isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        let database = try await PostgresAppDatabase.open(
            url: location.url, logger: TestPostgres.logger, maximumConnections: 2,
            heartbeat: PoolHeartbeat.Timing(interval: .milliseconds(200), answerWithin: .seconds(2)))
        defer { Task { await database.close() } }
        // The pool opens both its connections by itself.
        let first = try await withDeadline(seconds: 60, "the pool's two connections") {
            while true {
                let pids = try await poolBackends()
                if pids.count == 2 { return pids }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let stopped = try #require(first.first)
        #expect(kill(stopped, SIGSTOP) == 0, "could not stop PostgreSQL's process \(stopped): errno \(errno)")
        defer {
            kill(stopped, SIGCONT)
        }
        // The heartbeat finds it silent, closes it, and the pool opens another.
        try await withDeadline(seconds: 60, "a connection in place of the silent one") {
            while try await poolBackends().subtracting([stopped]).count < 2 { try await Task.sleep(for: .milliseconds(50)) }
        }
        for _ in 0..<10 {
            let answer = try await withDeadline(seconds: 60, "a read through the pool") {
                try await database.withoutTransaction { connection in
                    var value = 0
                    for try await one in try await connection.query("SELECT 1", logger: TestPostgres.logger).decode(Int.self) { value = one }
                    return value
                }
            }
            #expect(answer == 1)
        }
    }

    /// A URL naming the test cluster's socket directory connects through it: the pool, and a connection of its own.
    @Test func aUnixDomainSocketURLConnectsWithoutTCP() async throws {
        let url = try #require(TestPostgres.serverURL)
        let tcp = try PostgresLocation(url: url)
        let directories = try await TestPostgres.admin(url) { connection in
            var value = ""
            for try await row in try await connection.query("SHOW unix_socket_directories", logger: TestPostgres.logger).decode(String.self) {
                value = row
            }
            return value
        }
        let directory = try #require(directories.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) })
        let migrated = try await TestPostgres.freshDatabase()
        let name = migrated.location.database
        await migrated.close()
        var socket = try PostgresLocation(url: "postgres://\(tcp.username)@/\(name)?host=\(directory)&port=\(tcp.port)")
        socket.password = tcp.password
        #expect(socket.socketDirectory == directory)
        // PostgreSQL reports a client on a Unix-domain socket with no address and port -1.
        let overTheSocket: PostgresQuery = "SELECT client_addr IS NULL AND client_port = -1 FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        let database = try await PostgresAppDatabase.open(url: socket.url, logger: TestPostgres.logger, maximumConnections: 2)
        let pooled = try await database.withoutTransaction { connection in
            var local = false
            for try await row in try await connection.query(overTheSocket, logger: TestPostgres.logger).decode(Bool.self) { local = row }
            return local
        }
        await database.close()
        #expect(pooled)
        let own = try await socket.withConnection(logger: TestPostgres.logger) { connection in
            var local = false
            for try await row in try await connection.query(overTheSocket, logger: TestPostgres.logger).decode(Bool.self) { local = row }
            return local
        }
        #expect(own)
        // A directory with no socket in it: unreachable, and said so.
        let nowhere = try PostgresLocation(url: "postgres://\(tcp.username)@/\(name)?host=/nonexistent-skillrelay-dir&port=\(tcp.port)")
        do {
            _ = try await PostgresAppDatabase.open(url: nowhere.url, logger: TestPostgres.logger)
            Issue.record("opened a socket that is not there")
        } catch let error as PostgresSetupError {
            guard case .unreachable(let location, _) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(location.contains("/nonexistent-skillrelay-dir"))
        }
    }

    private static func closedPort() throws -> Int {
        // A port just released by a socket of our own: nothing listens there.
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

import Foundation
import PostgresNIO
import SkillRelayDomain
import SkillRelaySecrets

extension PostgresDirectoryStore {
    /// How stale `lastUsedAt` may get before a request writes it again: one write a minute per token, not one a request.
    static let lastUsedResolution: TimeInterval = 60

    public func authenticate(secret: String) async throws -> Caller? {
        let hash = TokenSecret.hash(secret)
        let found = try await database.readingOneStatement { db -> (tokenID: Int64, lastUsedAt: Date?, caller: Caller)? in
            try await db.connection.rows(PreparedQuery<TokenBySecret> { try $0.append(hash) }).first.map {
                row -> (tokenID: Int64, lastUsedAt: Date?, caller: Caller)? in
                let (id, lastUsedAt, botName, handle, isAdmin, isActive, isManager) = try row.decode(
                    (Int64, Date?, String?, String?, Bool?, Bool?, Bool?).self)
                if let botName { return (id, lastUsedAt, Caller(identity: .bot(botName))) }
                guard let handle, isActive == true else { return nil }
                return (id, lastUsedAt, Caller(identity: .employee(handle), isAdmin: isAdmin ?? false, isManager: isManager ?? false))
            } ?? nil
        }
        guard let found else { return nil }
        let now = clock.now()
        if found.lastUsedAt.map({ now.timeIntervalSince($0) >= Self.lastUsedResolution }) ?? true {
            try await database.writing { db in try await db.execute("UPDATE apiToken SET lastUsedAt = \(now) WHERE id = \(found.tokenID)") }
        }
        return found.caller
    }

    public func createToken(for owner: APIToken.Owner, by caller: Caller) async throws -> IssuedToken {
        try DirectoryPolicy.authorize(caller, to: .manageTokens)
        return try await database.writing { db in
            var employeeID: Int64?
            var botName: String?
            switch owner {
            case .employee(let handle):
                let employee = try await Self.employeeRow(db, handle: handle)
                guard employee.isActive else { throw DirectoryError.invalidField("employee", "is inactive: '\(handle)' cannot sign in") }
                employeeID = employee.id
            case .bot(let name):
                guard DirectoryValidation.isValidHandle(name) else {
                    throw DirectoryError.invalidField("bot", "must be 1 to 64 of a-z, 0-9, '.', '_' and '-'")
                }
                botName = name
            }
            let secret = TokenSecret.makeSecret()
            let publicID = TokenSecret.makePublicID()
            guard
                let token = try await db.row(
                    """
                    INSERT INTO apiToken (publicId, secretHash, employeeId, botName, createdAt)
                    VALUES (\(publicID), \(TokenSecret.hash(secret)), \(employeeID), \(botName), \(clock.now()))
                    RETURNING \(unescaped: TokenRow.columns)
                    """, TokenRow.init)
            else { throw DirectoryError.tokenNotFound(publicID) }
            try await audit(db, by: caller, entity: "token", key: publicID, action: "create", before: nil, after: ["owner": Self.ownerName(owner)])
            return IssuedToken(token: try await Self.token(db, record: token), secret: secret)
        }
    }

    public func tokens(by caller: Caller, page: PageRequest) async throws -> ListPage<APIToken> {
        try DirectoryPolicy.authorize(caller, to: .manageTokens)
        // One statement, so no transaction: whether the cursor names a token, then the page after it, newest first by
        // row (tokens are only ever added, so that is creation order), each with its owner's handle. Before, each
        // token's owner was a round trip of its own.
        let rows = try await database.readingOneStatement { db in
            try await db.rows(
                """
                WITH after AS (SELECT id FROM apiToken WHERE publicId = \(page.after?.keys[0]))
                SELECT \(page.after == nil) OR EXISTS (SELECT 1 FROM after), token.*
                FROM (SELECT 1) AS one
                LEFT JOIN LATERAL (
                    SELECT \(unescaped: TokenRow.columns("apiToken")), employee.handle
                    FROM apiToken LEFT JOIN employee ON employee.id = apiToken.employeeId
                    WHERE apiToken.id < coalesce((SELECT id FROM after), 9223372036854775807)
                    ORDER BY apiToken.id DESC LIMIT \(page.limit + 1)
                ) AS token ON true
                ORDER BY token.id DESC
                """
            ) { $0 }
        }
        let decoded = try rows.map { try $0.decode((Bool, Int64?, String?, Int64?, String?, Date?, Date?, Date?, String?).self) }
        guard decoded.first?.0 == true else { throw InvalidCursor() }
        var tokens: [(record: TokenRow, handle: String?)] = []
        for (_, id, publicId, employeeId, botName, createdAt, revokedAt, lastUsedAt, handle) in decoded {
            // No tokens after the cursor: the one row that says whether the cursor was found.
            guard let id, let publicId, let createdAt else { continue }
            let record = TokenRow(
                id: id, publicId: publicId, employeeId: employeeId, botName: botName, createdAt: createdAt, revokedAt: revokedAt,
                lastUsedAt: lastUsedAt)
            tokens.append((record, handle))
        }
        let shown = ListPage(rows: tokens, limit: page.limit, list: .tokens) { [$0.record.publicId] }
        return ListPage(items: shown.items.map { Self.token($0.record, ownerHandle: $0.handle) }, next: shown.next)
    }

    public func revokeToken(_ id: String, by caller: Caller) async throws -> APIToken {
        try DirectoryPolicy.authorize(caller, to: .manageTokens)
        return try await database.writing { db in
            guard var record = try await db.row("SELECT \(unescaped: TokenRow.columns) FROM apiToken WHERE publicId = \(id)", TokenRow.init) else {
                throw DirectoryError.tokenNotFound(id)
            }
            if record.revokedAt == nil {
                let now = clock.now()
                try await db.execute("UPDATE apiToken SET revokedAt = \(now) WHERE id = \(record.id)")
                record.revokedAt = now
                try await audit(db, by: caller, entity: "token", key: id, action: "revoke", before: nil, after: nil)
            }
            return try await Self.token(db, record: record)
        }
    }

    static func token(_ db: PostgresStatements, record: TokenRow) async throws -> APIToken {
        var handle: String?
        if record.botName == nil, let employeeID = record.employeeId { handle = try await employeeRow(db, id: employeeID)?.handle }
        return token(record, ownerHandle: handle)
    }

    /// A token as the API shows it, its owner an employee by `ownerHandle` unless it is a bot's.
    static func token(_ record: TokenRow, ownerHandle: String?) -> APIToken {
        let owner: APIToken.Owner = record.botName.map { .bot($0) } ?? .employee(ownerHandle ?? "")
        return APIToken(id: record.publicId, owner: owner, createdAt: record.createdAt, revokedAt: record.revokedAt, lastUsedAt: record.lastUsedAt)
    }

    static func ownerName(_ owner: APIToken.Owner) -> String {
        switch owner {
        case .employee(let handle): "employee:\(handle)"
        case .bot(let name): "bot:\(name)"
        }
    }
}

/// A row of `apiToken`, without its hash.
struct TokenRow: Sendable {
    static let columns = "id, publicId, employeeId, botName, createdAt, revokedAt, lastUsedAt"

    /// `columns`, each named with `table`.
    static func columns(_ table: String) -> String {
        columns.split(separator: ", ").map { "\(table).\($0)" }.joined(separator: ", ")
    }

    var id: Int64
    var publicId: String
    var employeeId: Int64?
    var botName: String?
    var createdAt: Date
    var revokedAt: Date?
    var lastUsedAt: Date?

}

extension TokenRow {
    init(_ row: PostgresRow) throws {
        let (id, publicId, employeeId, botName, createdAt, revokedAt, lastUsedAt) = try row.decode(
            (Int64, String, Int64?, String?, Date, Date?, Date?).self)
        self.init(
            id: id, publicId: publicId, employeeId: employeeId, botName: botName, createdAt: createdAt, revokedAt: revokedAt,
            lastUsedAt: lastUsedAt)
    }
}

/// A live token by its secret's hash (`$1`), with its owner as a caller is made of.
enum TokenBySecret: PreparedSQL {
    static let name = "skillrelay_token_by_secret_v1"
    static let sql = """
        SELECT apiToken.id, apiToken.lastUsedAt, apiToken.botName, employee.handle, employee.isAdmin, employee.isActive,
            \(PostgresDirectoryStore.hasActiveReports("employee.id"))
        FROM apiToken LEFT JOIN employee ON employee.id = apiToken.employeeId
        WHERE apiToken.secretHash = $1::bytea AND apiToken.revokedAt IS NULL
        """
}

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
        return try await database.reading { db in
            // Newest first by row (tokens are only ever added, so that is creation order); the cursor names the last shown.
            var after = Int64.max
            if let cursor = page.after {
                guard let id = try await db.value("SELECT id FROM apiToken WHERE publicId = \(cursor.keys[0])", Int64.self) else {
                    throw InvalidCursor()
                }
                after = id
            }
            let records = try await db.rows(
                "SELECT \(unescaped: TokenRow.columns) FROM apiToken WHERE id < \(after) ORDER BY id DESC LIMIT \(page.limit + 1)", TokenRow.init)
            let shown = ListPage(rows: records, limit: page.limit, list: .tokens) { [$0.publicId] }
            var tokens: [APIToken] = []
            for record in shown.items { tokens.append(try await Self.token(db, record: record)) }
            return ListPage(items: tokens, next: shown.next)
        }
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
        let owner: APIToken.Owner
        if let botName = record.botName {
            owner = .bot(botName)
        } else {
            var handle = ""
            if let employeeID = record.employeeId { handle = try await employeeRow(db, id: employeeID)?.handle ?? "" }
            owner = .employee(handle)
        }
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

    var id: Int64
    var publicId: String
    var employeeId: Int64?
    var botName: String?
    var createdAt: Date
    var revokedAt: Date?
    var lastUsedAt: Date?

    init(_ row: PostgresRow) throws {
        (id, publicId, employeeId, botName, createdAt, revokedAt, lastUsedAt) = try row.decode(
            (Int64, String, Int64?, String?, Date, Date?, Date?).self)
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

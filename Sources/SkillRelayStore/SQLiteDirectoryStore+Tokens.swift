import Foundation
import GRDB
import SkillRelayDomain
import SkillRelaySecrets

extension SQLiteDirectoryStore {
    /// How stale `lastUsedAt` may get before a request writes it again: one write a minute per token, not one a request.
    static let lastUsedResolution: TimeInterval = 60

    /// A live token by its secret's hash: its id, when it was last used, the bot's name or the employee's handle, admin
    /// and active flags, and whether anyone active reports to them.
    static let authenticationSQL = """
        SELECT apiToken.id, apiToken.lastUsedAt, apiToken.botName, employee.handle, employee.isAdmin, employee.isActive,
            \(hasActiveReports("employee.id"))
        FROM apiToken LEFT JOIN employee ON employee.id = apiToken.employeeId
        WHERE apiToken.secretHash = ? AND apiToken.revokedAt IS NULL
        """

    public func authenticate(secret: String) async throws -> Caller? {
        let hash = TokenSecret.hash(secret)
        // Every request comes here: one cached statement in a short blocking read, without the async read's thread
        // hand-offs, and columns read by position (the query interface and Codable records took ~6 % of the ask path).
        let found = try database.blockingSingleStatementRead { db -> (tokenID: Int64, lastUsedAt: Date?, caller: Caller)? in
            let statement = try db.cachedStatement(sql: Self.authenticationSQL)
            guard let row = try Row.fetchOne(statement, arguments: [hash]) else { return nil }
            if let botName: String = row[2] { return (row[0], row[1], Caller(identity: .bot(botName))) }
            guard let handle: String = row[3], row[5] == true else { return nil }
            return (row[0], row[1], Caller(identity: .employee(handle), isAdmin: row[4], isManager: row[6]))
        }
        guard let found else { return nil }
        let now = clock.now()
        if found.lastUsedAt.map({ now.timeIntervalSince($0) >= Self.lastUsedResolution }) ?? true {
            try await database.write { db in
                try db.execute(sql: "UPDATE apiToken SET lastUsedAt = ? WHERE id = ?", arguments: [now, found.tokenID])
            }
        }
        return found.caller
    }

    public func createToken(for owner: APIToken.Owner, by caller: Caller) async throws -> IssuedToken {
        try DirectoryPolicy.authorize(caller, to: .manageTokens)
        return try await database.write { db in
            var record = APITokenRecord(publicId: TokenSecret.makePublicID(), secretHash: Data(), createdAt: clock.now())
            switch owner {
            case .employee(let handle):
                let employee = try Self.employeeRecord(db, handle: handle)
                guard employee.isActive else { throw DirectoryError.invalidField("employee", "is inactive: '\(handle)' cannot sign in") }
                record.employeeId = employee.id
            case .bot(let name):
                guard DirectoryValidation.isValidHandle(name) else {
                    throw DirectoryError.invalidField("bot", "must be 1 to 64 of a-z, 0-9, '.', '_' and '-'")
                }
                record.botName = name
            }
            let secret = TokenSecret.makeSecret()
            record.secretHash = TokenSecret.hash(secret)
            try record.insert(db)
            try audit(db, by: caller, entity: "token", key: record.publicId, action: "create", before: nil, after: ["owner": Self.ownerName(owner)])
            return IssuedToken(token: try Self.token(db, record: record), secret: secret)
        }
    }

    public func tokens(by caller: Caller, page: PageRequest) async throws -> ListPage<APIToken> {
        try DirectoryPolicy.authorize(caller, to: .manageTokens)
        return try await database.read { db in
            // Newest first by row (tokens are only ever added, so that is creation order); the cursor names the last shown.
            var after = Int64.max
            if let cursor = page.after {
                guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM apiToken WHERE publicId = ?", arguments: [cursor.keys[0]]) else {
                    throw InvalidCursor()
                }
                after = id
            }
            let records = try APITokenRecord.fetchAll(db, sql: Self.tokensSQL, arguments: [after, page.limit + 1])
            return try ListPage(rows: records, limit: page.limit, list: .tokens) { [$0.publicId] }.map { try Self.token(db, record: $0) }
        }
    }

    /// Tokens before row ?1, newest first, ?2 at most: a range of the table's own key.
    package static let tokensSQL = "SELECT * FROM apiToken WHERE id < ?1 ORDER BY id DESC LIMIT ?2"

    public func revokeToken(_ id: String, by caller: Caller) async throws -> APIToken {
        try DirectoryPolicy.authorize(caller, to: .manageTokens)
        return try await database.write { db in
            guard var record = try APITokenRecord.filter(APITokenRecord.Columns.publicId == id).fetchOne(db) else {
                throw DirectoryError.tokenNotFound(id)
            }
            if record.revokedAt == nil {
                record.revokedAt = clock.now()
                try record.update(db)
                try audit(db, by: caller, entity: "token", key: id, action: "revoke", before: nil, after: nil)
            }
            return try Self.token(db, record: record)
        }
    }

    static func token(_ db: Database, record: APITokenRecord) throws -> APIToken {
        let owner: APIToken.Owner
        if let botName = record.botName {
            owner = .bot(botName)
        } else {
            owner = .employee(try EmployeeRecord.fetchOne(db, key: record.employeeId!)?.handle ?? "")
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

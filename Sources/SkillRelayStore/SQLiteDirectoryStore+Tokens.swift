import Foundation
import GRDB
import SkillRelayDomain

extension SQLiteDirectoryStore {
    /// How stale `lastUsedAt` may get before a request writes it again: one write a minute per token, not one a request.
    static let lastUsedResolution: TimeInterval = 60

    public func authenticate(secret: String) async throws -> Caller? {
        let hash = TokenSecret.hash(secret)
        // Every request comes here: a short blocking read, without the async read's thread hand-offs.
        let found = try database.blockingRead { db -> (token: APITokenRecord, caller: Caller)? in
            guard let token = try APITokenRecord.filter(APITokenRecord.Columns.secretHash == hash).fetchOne(db), token.revokedAt == nil
            else { return nil }
            if let botName = token.botName { return (token, Caller(identity: .bot(botName))) }
            guard let employeeID = token.employeeId, let employee = try EmployeeRecord.fetchOne(db, key: employeeID), employee.isActive
            else { return nil }
            let isManager =
                try EmployeeRecord.filter(EmployeeRecord.Columns.managerId == employeeID && EmployeeRecord.Columns.isActive)
                .isEmpty(db) == false
            return (token, Caller(identity: .employee(employee.handle), isAdmin: employee.isAdmin, isManager: isManager))
        }
        guard let found else { return nil }
        let now = clock.now()
        if found.token.lastUsedAt.map({ now.timeIntervalSince($0) >= Self.lastUsedResolution }) ?? true {
            try await writer.write { db in
                try db.execute(sql: "UPDATE apiToken SET lastUsedAt = ? WHERE id = ?", arguments: [now, found.token.id!])
            }
        }
        return found.caller
    }

    public func createToken(for owner: APIToken.Owner, by caller: Caller) async throws -> IssuedToken {
        try DirectoryPolicy.authorize(caller, to: .manageTokens)
        return try await writer.write { db in
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

    public func tokens(by caller: Caller) async throws -> [APIToken] {
        try DirectoryPolicy.authorize(caller, to: .manageTokens)
        return try await writer.read { db in
            try APITokenRecord.order(APITokenRecord.Columns.createdAt.desc).fetchAll(db).map { try Self.token(db, record: $0) }
        }
    }

    public func revokeToken(_ id: String, by caller: Caller) async throws -> APIToken {
        try DirectoryPolicy.authorize(caller, to: .manageTokens)
        return try await writer.write { db in
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

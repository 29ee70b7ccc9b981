import Foundation
import PostgresNIO
import SkillRelayDomain

extension PostgresDirectoryStore: ReachStore {
    public func unreachable(by caller: Caller, limit: Int) async throws -> UnreachablePeople {
        try DirectoryPolicy.authorize(caller, to: .readStats)
        return try await database.reading { db in try await Self.unreachable(db, among: nil, limit: limit) }
    }

    public func unreachable(reportingTo caller: Caller, limit: Int) async throws -> UnreachablePeople {
        try DirectoryPolicy.authorize(caller, to: .readTeam)
        guard let handle = caller.handle else { return UnreachablePeople(people: [], total: 0) }
        return try await database.reading { db in
            let manager = try await Self.teamNode(db, handle: handle)
            return try await Self.unreachable(db, among: manager.orgPath, limit: limit)
        }
    }

    /// Active people with an IM id and a skill but no joined conversation with the bot: everyone, or those below
    /// the owner of `orgPath`. The first `limit` by name, and how many in all.
    static func unreachable(_ db: PostgresStatements, among orgPath: String?, limit: Int) async throws -> UnreachablePeople {
        func matching(_ sql: inout DynamicSQL) -> String {
            var below = ""
            if let orgPath {
                let (lower, upper) = subtreeRange(orgPath)
                below = "AND employee.orgPath COLLATE \"C\" > \(sql.bind(lower)) AND employee.orgPath COLLATE \"C\" < \(sql.bind(upper))"
            }
            return """
                FROM employee
                LEFT JOIN imConversation ON imConversation.imId = employee.imId
                LEFT JOIN imContact ON imContact.imId = employee.imId
                WHERE employee.isActive AND employee.imId IS NOT NULL AND employee.imId <> ''
                    AND EXISTS (SELECT 1 FROM skill WHERE skill.employeeId = employee.id)
                    AND NOT coalesce(imConversation.joined, false)
                    \(below)
                """
        }
        var count = DynamicSQL()
        count.append("SELECT count(*) " + matching(&count))
        let total = try await db.value(count.query, Int.self) ?? 0
        var page = DynamicSQL()
        let from = matching(&page)
        let pageLimit = page.bind(limit)
        page.append(
            """
            SELECT employee.handle, employee.name, employee.imId, imConversation.conversation,
                imContact.invitedAt, imContact.departedAt, imContact.departure
            \(from)
            ORDER BY employee.name COLLATE "C", employee.handle COLLATE "C"
            LIMIT \(pageLimit)
            """)
        let people = try await db.rows(page.query) { row in
            let (handle, name, imID, conversation, invitedAt, departedAt, departure) = try row.decode(
                (String, String, String, String?, Date?, Date?, String?).self)
            let (reason, since) = Self.reason(
                pending: conversation != nil, invitedAt: invitedAt, departedAt: departedAt, departure: departure.flatMap(IMDeparture.init(rawValue:)))
            return UnreachablePeople.Person(handle: handle, name: name, imID: imID, reason: reason, since: since)
        }
        return UnreachablePeople(people: people, total: total)
    }

    /// Why someone without a joined conversation is unreachable: whichever happened last of the bot's invitation and
    /// their departure.
    static func reason(pending: Bool, invitedAt: Date?, departedAt: Date?, departure: IMDeparture?) -> (UnreachablePeople.Reason, Date?) {
        if pending { return (.invited, invitedAt) }
        if let departedAt, let departure, invitedAt.map({ $0 <= departedAt }) ?? true {
            switch departure {
            case .left: return (.left, departedAt)
            case .refused: return (.refused, departedAt)
            case .removed: return (.removed, departedAt)
            }
        }
        if let invitedAt { return (.inviteFailed, invitedAt) }
        return (.notInvited, nil)
    }
}

import Foundation
import GRDB
import SkillRelayDomain

extension SQLiteDirectoryStore: ReachStore {
    public func unreachable(by caller: Caller, limit: Int) async throws -> UnreachablePeople {
        try DirectoryPolicy.authorize(caller, to: .readStats)
        return try await database.read { db in try Self.unreachable(db, among: nil, limit: limit) }
    }

    public func unreachable(reportingTo caller: Caller, limit: Int) async throws -> UnreachablePeople {
        try DirectoryPolicy.authorize(caller, to: .readTeam)
        guard let handle = caller.handle else { return UnreachablePeople(people: [], total: 0) }
        return try await database.read { db in
            let manager = try Self.teamNode(db, handle: handle)
            return try Self.unreachable(db, among: manager.orgPath, limit: limit)
        }
    }

    /// Active people with an IM id and a skill but no joined conversation with the bot: everyone, or those below
    /// the owner of `orgPath`. The first `limit` by name, and how many in all.
    static func unreachable(_ db: Database, among orgPath: String?, limit: Int) throws -> UnreachablePeople {
        let below: SQL =
            orgPath.map { path -> SQL in
                let (lower, upper) = subtreeRange(path)
                return "AND employee.orgPath > \(lower) AND employee.orgPath < \(upper)"
            } ?? ""
        let matching: SQL = """
            FROM employee
            LEFT JOIN imConversation ON imConversation.imId = employee.imId
            LEFT JOIN imContact ON imContact.imId = employee.imId
            WHERE employee.isActive AND employee.imId IS NOT NULL AND employee.imId <> ''
                AND EXISTS (SELECT 1 FROM skill WHERE skill.employeeId = employee.id)
                AND coalesce(imConversation.joined, 0) = 0
                \(below)
            """
        let total = try Int.fetchOne(db, SQLRequest<Int>(literal: "SELECT count(*) \(matching)")) ?? 0
        let rows = try SQLRequest<Row>(
            literal: """
                SELECT employee.handle, employee.name, employee.imId, imConversation.conversation,
                    imContact.invitedAt, imContact.departedAt, imContact.departure
                \(matching)
                ORDER BY employee.name, employee.handle
                LIMIT \(limit)
                """
        ).fetchAll(db)
        let people = rows.map { row in
            let (reason, since) = Self.reason(
                pending: (row["conversation"] as String?) != nil, invitedAt: row["invitedAt"], departedAt: row["departedAt"],
                departure: (row["departure"] as String?).flatMap(IMDeparture.init(rawValue:)))
            return UnreachablePeople.Person(handle: row["handle"], name: row["name"], imID: row["imId"], reason: reason, since: since)
        }
        return UnreachablePeople(people: people, total: total)
    }

    /// Why someone without a joined conversation is unreachable: whichever happened last of the bot's invitation and
    /// their departure.
    static func reason(pending: Bool, invitedAt: Date?, departedAt: Date?, departure: IMDeparture?)
        -> (UnreachablePeople.Reason, Date?)
    {
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

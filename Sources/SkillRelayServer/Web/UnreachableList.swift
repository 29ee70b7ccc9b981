import Foundation
import SkillRelayDomain

/// Tagged specialists the IM cannot reach, as My team and the admin page show them (the `unreachable` partial).
struct UnreachableList {
    struct Row {
        var handle: String
        var name: String
        var imID: String
        var reason: String
    }

    var total: Int
    var rows: [Row]
    var isEmpty: Bool
    /// "the first 50 of 120", when the list is cut short.
    var cut: String?

    init(_ people: UnreachablePeople) {
        total = people.total
        rows = people.people.map { Row(handle: $0.handle, name: $0.name, imID: $0.imID, reason: Self.describe($0)) }
        isEmpty = people.total == 0
        cut = people.total > people.people.count ? "the first \(people.people.count) of \(people.total), by name" : nil
    }

    /// Why they are unreachable, in words.
    static func describe(_ person: UnreachablePeople.Person) -> String {
        let since = person.since.map { " on \(WebRenderer.format($0))" } ?? ""
        return switch person.reason {
        case .notInvited: "not invited yet: the bot invites them when a question first needs them"
        case .invited: "invited to the bot's room\(since), not joined yet"
        case .inviteFailed: "the IM server refused the bot's invitation\(since) (is the IM id right?)"
        case .left: "left the bot's room\(since)"
        case .refused: "declined the bot's invitation\(since)"
        case .removed: "removed from the bot's room\(since)"
        }
    }
}

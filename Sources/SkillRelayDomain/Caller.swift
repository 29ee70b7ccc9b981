/// Who is making a request, as established from their credentials.
public struct Caller: Sendable, Equatable {
    /// The identity behind the credentials.
    public enum Identity: Sendable, Equatable {
        /// An employee's own token.
        case employee(String)
        /// A bot's token: no employee behind it.
        case bot(String)
        /// Whoever runs the CLI on the database file: trusted like an admin.
        case `operator`
    }

    public var identity: Identity
    /// An admin may do everything.
    public var isAdmin: Bool
    /// A manager has at least one report.
    public var isManager: Bool

    public init(identity: Identity, isAdmin: Bool = false, isManager: Bool = false) {
        self.identity = identity
        self.isAdmin = isAdmin
        self.isManager = isManager
    }

    /// The local operator of the CLI.
    public static let cliOperator = Caller(identity: .operator, isAdmin: true)

    /// The employee's handle, if an employee is calling.
    public var handle: String? {
        if case .employee(let handle) = identity { handle } else { nil }
    }

    /// The caller's roles, broadest last.
    public var roles: [Role] {
        switch identity {
        case .bot: return [.bot]
        case .operator: return [.admin]
        case .employee:
            var roles: [Role] = [.employee]
            if isManager { roles.append(.manager) }
            if isAdmin { roles.append(.admin) }
            return roles
        }
    }

    /// How the audit log names the caller.
    public var auditName: String {
        switch identity {
        case .employee(let handle): "employee:\(handle)"
        case .bot(let name): "bot:\(name)"
        case .operator: "cli"
        }
    }
}

/// What a caller is to the directory.
public enum Role: String, Sendable, Equatable, CaseIterable {
    case employee, manager, admin, bot
}

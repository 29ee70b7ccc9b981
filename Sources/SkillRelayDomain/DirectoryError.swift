/// Everything that can go wrong with a directory request, in the domain's words; the server maps each kind to a status.
public enum DirectoryError: Error, Sendable, Equatable {
    case unauthenticated
    case forbidden(String)
    case employeeNotFound(String)
    case topicNotFound(String)
    case tokenNotFound(String)
    case skillNotFound(handle: String, topic: String)
    case handleTaken(String)
    case slugTaken(String)
    case aliasTaken(String)
    case imIDTaken(String)
    case invalidHandle(String)
    case invalidSlug(String)
    case invalidAlias(String)
    case invalidLevel(Int)
    case invalidField(String, String)
    case unknownManager(String)
    case unknownParent(String)
    case managerCycle(String)
    case topicCycle(String)
    case topicHasChildren(String)
    case aliasNotFound(alias: String, topic: String)
    case lastAdmin(String)

    /// How the error is to be understood, independent of any protocol.
    public enum Kind: Sendable {
        /// No or no valid credentials.
        case unauthenticated
        /// The caller is known but may not do this.
        case forbidden
        /// The thing named does not exist (or must not be revealed).
        case notFound
        /// The thing to create exists already.
        case conflict
        /// The request is well-formed but breaks a rule of the directory.
        case invalid
    }

    /// The error's kind.
    public var kind: Kind {
        switch self {
        case .unauthenticated: .unauthenticated
        case .forbidden: .forbidden
        case .employeeNotFound, .topicNotFound, .tokenNotFound, .skillNotFound, .aliasNotFound: .notFound
        case .handleTaken, .slugTaken, .imIDTaken: .conflict
        case .aliasTaken, .invalidHandle, .invalidSlug, .invalidAlias, .invalidLevel, .invalidField, .unknownManager,
            .unknownParent, .managerCycle, .topicCycle, .topicHasChildren, .lastAdmin:
            .invalid
        }
    }

    /// A stable, machine-readable code for clients.
    public var code: String {
        switch self {
        case .unauthenticated: "unauthenticated"
        case .forbidden: "forbidden"
        case .employeeNotFound: "employee_not_found"
        case .topicNotFound: "topic_not_found"
        case .tokenNotFound: "token_not_found"
        case .skillNotFound: "skill_not_found"
        case .aliasNotFound: "alias_not_found"
        case .handleTaken: "handle_taken"
        case .slugTaken: "slug_taken"
        case .aliasTaken: "alias_taken"
        case .imIDTaken: "im_id_taken"
        case .invalidHandle: "invalid_handle"
        case .invalidSlug: "invalid_slug"
        case .invalidAlias: "invalid_alias"
        case .invalidLevel: "invalid_level"
        case .invalidField: "invalid_field"
        case .unknownManager: "unknown_manager"
        case .unknownParent: "unknown_parent"
        case .managerCycle: "manager_cycle"
        case .topicCycle: "topic_cycle"
        case .topicHasChildren: "topic_has_children"
        case .lastAdmin: "last_admin"
        }
    }

    /// A sentence a person can act on.
    public var message: String {
        switch self {
        case .unauthenticated: "A valid bearer token is required."
        case .forbidden(let why): why
        case .employeeNotFound(let handle): "No employee with handle '\(handle)'."
        case .topicNotFound(let topic): "No topic with slug or alias '\(topic)'."
        case .tokenNotFound(let id): "No token with id '\(id)'."
        case .skillNotFound(let handle, let topic): "'\(handle)' has no skill in '\(topic)'."
        case .aliasNotFound(let alias, let topic): "'\(alias)' is not an alias of '\(topic)'."
        case .handleTaken(let handle): "The handle '\(handle)' is already taken."
        case .slugTaken(let slug): "The slug '\(slug)' is already a topic or an alias."
        case .aliasTaken(let alias): "The alias '\(alias)' is already a topic's slug or alias."
        case .imIDTaken(let imID): "The IM id '\(imID)' already belongs to another employee."
        case .invalidHandle(let handle): "'\(handle)' is not a valid handle: use 1 to 64 of a-z, 0-9, '.', '_' and '-'."
        case .invalidSlug(let slug): "'\(slug)' is not a valid slug: use 1 to 64 of a-z, 0-9 and '-', starting with a letter or digit."
        case .invalidAlias(let alias): "'\(alias)' is not a valid alias: use 1 to 64 of a-z, 0-9 and '-', starting with a letter or digit."
        case .invalidLevel(let level): "Level \(level) is out of range: levels run from 1 to 5."
        case .invalidField(let field, let why): "'\(field)' \(why)."
        case .unknownManager(let handle): "The manager '\(handle)' is not in the directory."
        case .unknownParent(let slug): "The parent topic '\(slug)' does not exist."
        case .managerCycle(let handle): "Making that change would put '\(handle)' above themselves in the org chart."
        case .topicCycle(let slug): "Making that change would make '\(slug)' its own ancestor."
        case .topicHasChildren(let slug): "'\(slug)' still has subtopics."
        case .lastAdmin(let handle): "'\(handle)' is the last active admin; make someone else admin first."
        }
    }
}

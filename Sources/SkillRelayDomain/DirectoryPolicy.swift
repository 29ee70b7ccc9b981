/// Who may do what in the directory. Pure rules: the store supplies the facts (how caller and target are related,
/// what the skill's source is) inside the transaction that makes the change.
public enum DirectoryPolicy {
    /// How the target of an action stands to the caller in the org chart.
    public enum Relation: Sendable, Equatable, CaseIterable {
        /// The caller acts on themselves.
        case themselves
        /// The target reports to the caller, directly or further down.
        case belowCaller
        /// Anyone else: peers, people above the caller, other departments.
        case unrelated
    }

    /// What a caller wants to do.
    public enum Action: Sendable, Equatable {
        case readTopics
        case editTopics
        case readEmployee(Relation)
        case editEmployees
        case manageTokens
        case importDirectory
        /// Set a skill's level; `existing` is the source of the skill already there, if any.
        case tagSkill(Relation, existing: SkillSource?)
        case untagSkill(Relation, existing: SkillSource)
        /// List the people below oneself with their skills.
        case readTeam
        /// List employees: an admin everyone, a manager the people below them.
        case listEmployees
        /// Read the numbers on how questions fare.
        case readStats
        /// Read or export the compliance log.
        case exportComplianceLog
    }

    /// Throws `forbidden` unless the caller may perform the action.
    public static func authorize(_ caller: Caller, to action: Action) throws(DirectoryError) {
        if case .readTopics = action { return }
        if caller.isAdmin { return }
        if case .bot = caller.identity {
            throw .forbidden("Bots may only read topics.")
        }
        switch action {
        case .readTopics:
            return
        case .editTopics:
            throw .forbidden("Only an admin may change topics.")
        case .editEmployees:
            throw .forbidden("Only an admin may change employees.")
        case .manageTokens:
            throw .forbidden("Only an admin may manage tokens.")
        case .importDirectory:
            throw .forbidden("Only an admin may import the directory.")
        case .readTeam:
            guard caller.isManager else { throw .forbidden("My team is for managers: nobody reports to you.") }
        case .listEmployees:
            guard caller.isManager else {
                throw .forbidden("Listing employees is for admins and managers; you may read your own profile at /v1/me.")
            }
        case .readStats:
            throw .forbidden("Only an admin may read the statistics.")
        case .exportComplianceLog:
            throw .forbidden("Only an admin may export the compliance log.")
        case .readEmployee(let relation):
            guard relation != .unrelated else {
                throw .forbidden("You may read your own profile and those of the people below you.")
            }
        case .tagSkill(let relation, let existing):
            try authorizeSkillChange(relation: relation, existing: existing)
        case .untagSkill(let relation, let existing):
            try authorizeSkillChange(relation: relation, existing: existing)
        }
    }

    /// The source recorded for a tag the caller is allowed to make.
    public static func source(ofTagBy caller: Caller, relation: Relation) -> SkillSource {
        switch caller.identity {
        case .operator: .manager
        case .bot: .manager
        case .employee: relation == .themselves ? .selfDeclared : .manager
        }
    }

    private static func authorizeSkillChange(relation: Relation, existing: SkillSource?) throws(DirectoryError) {
        switch relation {
        case .belowCaller:
            return
        case .themselves:
            if let existing, existing != .selfDeclared {
                throw .forbidden("That skill was tagged by your manager or an import; only they may change it.")
            }
        case .unrelated:
            throw .forbidden("Managers tag the skills of people below them, never their own, their peers' or their superiors'.")
        }
    }
}

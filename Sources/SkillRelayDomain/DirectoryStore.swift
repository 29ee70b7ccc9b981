/// The skills directory: every read and change, each change one transaction that enforces `DirectoryPolicy`.
public protocol DirectoryStore: Sendable {
    /// Throws unless the database answers.
    func checkHealth() async throws

    /// The caller a bearer secret stands for, or `nil` when the secret is unknown, revoked or its owner inactive.
    func authenticate(secret: String) async throws -> Caller?

    // MARK: - Topics

    /// A page of topics in slug order, or, with a query, in full-text relevance order.
    func topics(matching query: String?, limit: Int, offset: Int) async throws -> TopicPage
    /// Topics in slug order, a page at a time; with a query, only those it finds (full text, as `topics(matching:)`).
    func topicPage(matching query: String?, page: PageRequest) async throws -> ListPage<Topic>
    /// One topic, by slug or alias.
    func topic(_ slugOrAlias: String) async throws -> TopicDetail
    /// Creates a topic (admin).
    func createTopic(_ topic: Topic, by caller: Caller) async throws -> TopicDetail
    /// Changes a topic's name, description or parent (admin).
    func updateTopic(_ slugOrAlias: String, with patch: TopicPatch, by caller: Caller) async throws -> TopicDetail
    /// Adds an alias to a topic (admin).
    func addAlias(_ alias: String, to slugOrAlias: String, by caller: Caller) async throws -> TopicDetail
    /// Removes an alias from a topic (admin).
    func removeAlias(_ alias: String, from slugOrAlias: String, by caller: Caller) async throws -> TopicDetail

    // MARK: - Employees

    /// One employee with their skills: themselves, the people above them, or an admin.
    func employee(_ handle: String, by caller: Caller) async throws -> EmployeeProfile
    /// Employees by name, a page at a time: everyone for an admin, the people below them for a manager.
    func employees(_ filter: EmployeeFilter, by caller: Caller, page: PageRequest) async throws -> ListPage<EmployeeSummary>
    /// Someone's direct reports by name, each with how many people are below them; for whoever may read that person.
    func reports(of handle: String, isActive: Bool, by caller: Caller, page: PageRequest) async throws -> ListPage<EmployeeSummary>
    /// Creates an employee (admin).
    func createEmployee(_ employee: Employee, by caller: Caller) async throws -> EmployeeProfile
    /// Changes an employee (admin).
    func updateEmployee(_ handle: String, with patch: EmployeePatch, by caller: Caller) async throws -> EmployeeProfile

    // MARK: - Skills

    /// Tags an employee with a topic at a level, or re-levels the tag.
    func setSkill(of handle: String, topic slugOrAlias: String, level: Int, by caller: Caller) async throws -> Skill
    /// Removes an employee's tag.
    func removeSkill(of handle: String, topic slugOrAlias: String, by caller: Caller) async throws
    /// Active employees tagged with the topic or a subtopic at `minimumLevel` or above, best first.
    func specialists(for slugOrAlias: String, minimumLevel: Int, limit: Int) async throws -> [Specialist]

    // MARK: - Tokens

    /// Issues a token for an employee or a bot (admin).
    func createToken(for owner: APIToken.Owner, by caller: Caller) async throws -> IssuedToken
    /// Tokens, newest first, a page at a time (admin).
    func tokens(by caller: Caller, page: PageRequest) async throws -> ListPage<APIToken>
    /// Revokes a token (admin).
    func revokeToken(_ id: String, by caller: Caller) async throws -> APIToken

    // MARK: - Import

    /// Upserts a whole parsed import in one transaction, or changes nothing and throws `ImportFailure`.
    func importDirectory(_ batch: ImportBatch, by caller: Caller) async throws -> ImportSummary
}

/// A table `db copy` copies, with what it must know beyond the catalogue: which column points at a row of the same
/// table, and which columns the database keeps itself.
struct CopiedTable: Sendable {
    /// The name as SQLite spells it (PostgreSQL folds it to lower case).
    var name: String
    /// A column referring to another row of this table (an employee's manager, a topic's parent): rows are inserted
    /// parents first.
    var parentColumn: String?
    /// Columns triggers keep (the org path, the count of people below, a topic's aliases): not written, but compared
    /// with the source's once every row is in.
    var derivedColumns: [String] = []
    /// Columns only PostgreSQL has that hold nothing worth moving (a lease on an outbox message or a due wave): left
    /// behind when copying to SQLite.
    var transientColumns: [String] = []

    var key: String { name.lowercased() }

    /// Every table, in an order in which each row's foreign keys point at rows already copied. A table in either
    /// database that is neither here nor among the ignored ones stops the copy: a newer schema than this copier knows.
    static let all: [CopiedTable] = [
        CopiedTable(name: "employee", parentColumn: "managerId", derivedColumns: ["orgPath", "peopleBelow"]),
        CopiedTable(name: "topic", parentColumn: "parentId", derivedColumns: ["aliases"]),
        CopiedTable(name: "topicAlias"),
        CopiedTable(name: "skill"),
        CopiedTable(name: "apiToken"),
        CopiedTable(name: "auditEntry"),
        CopiedTable(name: "question", transientColumns: ["claimedUntil"]),
        CopiedTable(name: "delivery"),
        CopiedTable(name: "answer"),
        CopiedTable(name: "specialistRecord"),
        CopiedTable(name: "localPresence"),
        CopiedTable(name: "complianceEntry"),
        CopiedTable(name: "outbox", transientColumns: ["claimedUntil"]),
        CopiedTable(name: "setting"),
        CopiedTable(name: "imConversation"),
        CopiedTable(name: "imHandledEvent"),
        CopiedTable(name: "loginLink"),
        CopiedTable(name: "webSession"),
        CopiedTable(name: "imContact"),
        CopiedTable(name: "imKey"),
        CopiedTable(name: "routingStat"),
        CopiedTable(name: "routingHour"),
        CopiedTable(name: "skillSuggestion"),
        CopiedTable(name: "skillSuggestionEvidence"),
        CopiedTable(name: "followUp"),
        CopiedTable(name: "threadReference"),
        CopiedTable(name: "reveal"),
        CopiedTable(name: "heldAnswer"),
        CopiedTable(name: "plainChoice"),
    ]

    /// Bookkeeping tables each database keeps for itself (lower case): migrations applied, SQLite's AUTOINCREMENT
    /// counters (carried over as identity high-water marks instead) and statistics. Full-text indexes are recognised
    /// from the catalogue; triggers rebuild what they hold.
    static let bookkeeping: Set<String> = [
        "grdb_migrations", "sqlite_sequence", "sqlite_stat1", "sqlite_stat4", "schemamigration",
        // Several instances' passing state on PostgreSQL: rate-limit windows of the last minute and live events already
        // relayed. Nothing a moved deployment needs; not copied.
        "ratelimit", "ratelimithit", "relayedevent",
    ]
}

import Foundation
import GRDB
import SkillRelayDomain

extension AppDatabase {
    /// The schema's history. A shipped migration is never edited: change the schema by adding one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 directory") { db in
            try db.create(table: "employee") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("handle", .text).notNull().unique()
                t.column("name", .text).notNull()
                t.column("email", .text).notNull()
                t.column("imId", .text).unique()
                t.belongsTo("manager", inTable: "employee", onDelete: .restrict)
                t.column("isAdmin", .boolean).notNull().defaults(to: false)
                t.column("isActive", .boolean).notNull().defaults(to: true)
                t.column("createdAt", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull()
            }
            try db.create(table: "topic") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("slug", .text).notNull().unique()
                t.column("name", .text).notNull()
                t.column("description", .text).notNull().defaults(to: "")
                t.belongsTo("parent", inTable: "topic", onDelete: .restrict)
                t.column("createdAt", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull()
            }
            try db.create(table: "topicAlias") { t in
                t.primaryKey("alias", .text)
                t.belongsTo("topic", onDelete: .cascade).notNull()
            }
            try db.create(table: "skill") { t in
                t.belongsTo("employee", onDelete: .cascade).notNull()
                t.belongsTo("topic", onDelete: .cascade).notNull()
                t.primaryKey(["employeeId", "topicId"])
                t.column("level", .integer).notNull().check { (1...5).contains($0) }
                t.column("source", .text).notNull().check { ["manager", "self", "import"].contains($0) }
                t.belongsTo("taggedBy", inTable: "employee", onDelete: .setNull)
                t.column("taggedAt", .datetime).notNull()
            }
            // Serves "who has topic T at level >= L" from the index alone (a test checks the plan).
            try db.create(index: "skillByTopicLevel", on: "skill", columns: ["topicId", "level", "employeeId"])
            try db.create(table: "apiToken") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("publicId", .text).notNull().unique()
                t.column("secretHash", .blob).notNull().unique()
                t.belongsTo("employee", onDelete: .cascade)
                t.column("botName", .text)
                t.column("createdAt", .datetime).notNull()
                t.column("revokedAt", .datetime)
                t.column("lastUsedAt", .datetime)
                t.check(sql: "(employeeId IS NULL) <> (botName IS NULL)")
            }
            try db.create(table: "auditEntry") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .datetime).notNull().indexed()
                t.column("actor", .text).notNull()
                t.column("entity", .text).notNull()
                t.column("entityKey", .text).notNull()
                t.column("action", .text).notNull()
                t.column("before", .jsonText)
                t.column("after", .jsonText)
            }
            // Full-text search over topics; rowid is the topic's id. Triggers keep it in step with topic and topicAlias.
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE topicSearch USING fts5(slug, name, aliases, description, tokenize = 'unicode61 remove_diacritics 2');
                    CREATE TRIGGER topicSearchInsert AFTER INSERT ON topic BEGIN
                        INSERT INTO topicSearch(rowid, slug, name, aliases, description)
                        VALUES (new.id, new.slug, new.name, '', new.description);
                    END;
                    CREATE TRIGGER topicSearchUpdate AFTER UPDATE OF slug, name, description ON topic BEGIN
                        UPDATE topicSearch SET slug = new.slug, name = new.name, description = new.description WHERE rowid = new.id;
                    END;
                    CREATE TRIGGER topicSearchDelete AFTER DELETE ON topic BEGIN
                        DELETE FROM topicSearch WHERE rowid = old.id;
                    END;
                    CREATE TRIGGER topicSearchAliasInsert AFTER INSERT ON topicAlias BEGIN
                        UPDATE topicSearch SET aliases = (SELECT group_concat(alias, ' ') FROM topicAlias WHERE topicId = new.topicId)
                        WHERE rowid = new.topicId;
                    END;
                    CREATE TRIGGER topicSearchAliasDelete AFTER DELETE ON topicAlias BEGIN
                        UPDATE topicSearch SET aliases = coalesce((SELECT group_concat(alias, ' ') FROM topicAlias WHERE topicId = old.topicId), '')
                        WHERE rowid = old.topicId;
                    END;
                    """)
        }
        migrator.registerMigration("v2 questions") { db in
            try db.alter(table: "employee") { t in t.add(column: "pausedUntil", .datetime) }
            try db.execute(
                sql: """
                    CREATE TABLE question (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        publicId TEXT NOT NULL UNIQUE,
                        askerEmployeeId INTEGER REFERENCES employee(id) ON DELETE RESTRICT,
                        askerBotName TEXT,
                        askerKey TEXT NOT NULL,
                        topicId INTEGER NOT NULL REFERENCES topic(id) ON DELETE RESTRICT,
                        text TEXT NOT NULL,
                        maxAnswers INTEGER NOT NULL CHECK (maxAnswers BETWEEN 1 AND 10),
                        status TEXT NOT NULL CHECK (status IN ('open', 'answered', 'expired', 'cancelled')),
                        channel TEXT NOT NULL CHECK (channel IN ('api', 'im')),
                        callbackUrl TEXT,
                        idempotencyKey TEXT,
                        waves INTEGER NOT NULL DEFAULT 0,
                        relayed INTEGER NOT NULL DEFAULT 0,
                        createdAt DATETIME NOT NULL,
                        expiresAt DATETIME NOT NULL,
                        nextActionAt DATETIME,
                        closedAt DATETIME,
                        CHECK ((askerEmployeeId IS NULL) <> (askerBotName IS NULL))
                    );
                    CREATE UNIQUE INDEX questionByIdempotencyKey ON question(askerKey, idempotencyKey) WHERE idempotencyKey IS NOT NULL;
                    -- The scheduler's question: which open questions are due.
                    CREATE INDEX questionDue ON question(nextActionAt) WHERE status = 'open';
                    CREATE TABLE delivery (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        publicId TEXT NOT NULL UNIQUE,
                        questionId INTEGER NOT NULL REFERENCES question(id) ON DELETE CASCADE,
                        specialistId INTEGER NOT NULL REFERENCES employee(id) ON DELETE RESTRICT,
                        number INTEGER NOT NULL,
                        wave INTEGER NOT NULL,
                        level INTEGER NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('pending', 'answered', 'passed', 'closed')),
                        deliveredAt DATETIME NOT NULL,
                        respondedAt DATETIME,
                        imReference TEXT,
                        UNIQUE (questionId, specialistId),
                        UNIQUE (questionId, number)
                    );
                    CREATE INDEX deliveryBySpecialist ON delivery(specialistId, deliveredAt);
                    CREATE TABLE answer (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        questionId INTEGER NOT NULL REFERENCES question(id) ON DELETE CASCADE,
                        deliveryId INTEGER NOT NULL UNIQUE REFERENCES delivery(id) ON DELETE CASCADE,
                        text TEXT NOT NULL,
                        receivedAt DATETIME NOT NULL,
                        rank INTEGER,
                        helpful BOOLEAN,
                        ratedAt DATETIME,
                        UNIQUE (questionId, rank)
                    );
                    -- Each specialist's record, kept as counters so ranking reads one row per candidate.
                    CREATE TABLE specialistRecord (
                        employeeId INTEGER PRIMARY KEY REFERENCES employee(id) ON DELETE CASCADE,
                        delivered INTEGER NOT NULL DEFAULT 0,
                        answered INTEGER NOT NULL DEFAULT 0,
                        helpful INTEGER NOT NULL DEFAULT 0,
                        unhelpful INTEGER NOT NULL DEFAULT 0,
                        lastDeliveredAt DATETIME
                    );
                    CREATE TABLE localPresence (
                        employeeId INTEGER PRIMARY KEY REFERENCES employee(id) ON DELETE CASCADE,
                        status TEXT NOT NULL CHECK (status IN ('available', 'away', 'busy', 'offline')),
                        updatedAt DATETIME NOT NULL
                    );
                    CREATE TABLE complianceEntry (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at DATETIME NOT NULL,
                        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
                        kind TEXT NOT NULL,
                        sender TEXT NOT NULL,
                        recipient TEXT NOT NULL,
                        questionId TEXT,
                        deliveryId TEXT,
                        text TEXT
                    );
                    CREATE INDEX complianceEntryByTime ON complianceEntry(at);
                    CREATE TABLE outbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        message TEXT NOT NULL,
                        createdAt DATETIME NOT NULL,
                        nextAttemptAt DATETIME NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        sentAt DATETIME,
                        failedAt DATETIME,
                        lastError TEXT
                    );
                    CREATE INDEX outboxPending ON outbox(nextAttemptAt) WHERE sentAt IS NULL AND failedAt IS NULL;
                    -- Values SkillRelay makes once and keeps, such as the callback signing secret.
                    CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    """)
        }
        migrator.registerMigration("v3 im state") { db in
            try db.execute(
                sql: """
                    -- One direct conversation (a Matrix room) per person.
                    CREATE TABLE imConversation (
                        imId TEXT PRIMARY KEY,
                        conversation TEXT NOT NULL UNIQUE
                    );
                    -- Inbound events already handled, so a replayed sync never acts twice.
                    CREATE TABLE imHandledEvent (
                        eventId TEXT PRIMARY KEY,
                        handledAt DATETIME NOT NULL
                    );
                    CREATE INDEX deliveryByIMReference ON delivery(imReference) WHERE imReference IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v4 web") { db in
            try db.execute(
                sql: """
                    -- One-time sign-in links for the web page; only the SHA-256 of each secret is kept.
                    CREATE TABLE loginLink (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        secretHash BLOB NOT NULL UNIQUE,
                        employeeId INTEGER NOT NULL REFERENCES employee(id) ON DELETE CASCADE,
                        createdAt DATETIME NOT NULL,
                        expiresAt DATETIME NOT NULL,
                        usedAt DATETIME
                    );
                    CREATE INDEX loginLinkByExpiry ON loginLink(expiresAt);
                    -- Web sessions by the SHA-256 of the cookie's value; the value is the session's JSON.
                    CREATE TABLE webSession (
                        keyHash BLOB PRIMARY KEY,
                        value TEXT NOT NULL,
                        expiresAt DATETIME
                    );
                    CREATE INDEX webSessionByExpiry ON webSession(expiresAt) WHERE expiresAt IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v5 questions by asker") { db in
            // An asker's own questions, newest first, for the web page's list.
            try db.execute(sql: "CREATE INDEX questionByAsker ON question(askerKey, id)")
        }
        migrator.registerMigration("v6 outbox due by id") { db in
            // The drain takes due messages in queueing order: without this SQLite read the outbox by rowid from its
            // first message, every message ever sent included, on every drain.
            try db.execute(sql: "CREATE INDEX outboxDueById ON outbox(id) WHERE sentAt IS NULL AND failedAt IS NULL")
        }
        migrator.registerMigration("v7 outbox destinations") { db in
            // Each message's destination (a person, or a callback URL), so that the drain can hold back a destination's
            // later messages while an earlier one waits for its retry: order per destination, always.
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN destination TEXT NOT NULL DEFAULT ''")
            let pending = try Row.fetchAll(db, sql: "SELECT id, message FROM outbox WHERE sentAt IS NULL AND failedAt IS NULL")
            for row in pending {
                let json: String = row["message"]
                guard let message = try? JSONDecoder().decode(OutboxMessage.self, from: Data(json.utf8)) else { continue }
                try db.execute(sql: "UPDATE outbox SET destination = ? WHERE id = ?", arguments: [message.destination, row["id"] as Int64])
            }
            try db.execute(sql: "CREATE INDEX outboxPendingByDestination ON outbox(destination, id) WHERE sentAt IS NULL AND failedAt IS NULL")
        }
        migrator.registerMigration("v8 im invitations and departures") { db in
            try db.execute(
                sql: """
                    -- Whether the person is in their conversation: 0 while the bot's invitation is pending. Rooms stored
                    -- before were either opened by the person or written in by them, or made by the bot and, as far as
                    -- anyone knows, joined: they count as joined, as they did.
                    ALTER TABLE imConversation ADD COLUMN joined BOOLEAN NOT NULL DEFAULT 1;
                    -- What outlives a conversation: when the bot last invited the person (at most once a day, so a
                    -- refusal is respected) and when and how they last left one (left, refused, removed).
                    CREATE TABLE imContact (
                        imId TEXT PRIMARY KEY,
                        invitedAt DATETIME,
                        departedAt DATETIME,
                        departure TEXT CHECK (departure IN ('left', 'refused', 'removed'))
                    );
                    """)
        }
        migrator.registerMigration("v9 im keys") { db in
            try db.execute(
                sql: """
                    -- The IM adapter's secrets (Matrix: the bot's device keys, Olm and Megolm sessions), each sealed by
                    -- the adapter with a key from outside the database before it is written here.
                    CREATE TABLE imKey (
                        namespace TEXT NOT NULL,
                        key TEXT NOT NULL,
                        value BLOB NOT NULL,
                        updatedAt DATETIME NOT NULL,
                        PRIMARY KEY (namespace, key)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v10 list indexes") { db in
            try db.execute(
                sql: """
                    -- Every list pages by a key it can resume from. People are listed by name (case-insensitive) and
                    -- handle, active or not: each page is a range of this index, never a sort of the whole directory.
                    CREATE INDEX employeeByActiveName ON employee(isActive, name COLLATE NOCASE, handle);
                    -- A manager's direct reports in the same order, and the walk down the org chart (covering: the
                    -- walk reads who is below and whether they are active from the index alone).
                    CREATE INDEX employeeByManagerName ON employee(managerId, isActive, name COLLATE NOCASE, handle);
                    """)
        }
        migrator.registerMigration("v11 org paths") { db in try migrateToOrgPaths(db) }
        migrator.registerMigration("v12 routing stats") { db in
            try db.execute(
                sql: """
                    -- The learned routing's statistics (see RoutingEstimator), kept in the transactions of the deliveries,
                    -- answers, passes, closes and ratings that produce them. Each count is decayed: it stood at these
                    -- values at updatedAt and halves every half-life after.
                    CREATE TABLE routingStat (
                        employeeId INTEGER NOT NULL REFERENCES employee(id) ON DELETE CASCADE,
                        topicId INTEGER NOT NULL REFERENCES topic(id) ON DELETE CASCADE,
                        outcomes REAL NOT NULL,
                        timely REAL NOT NULL,
                        passed REAL NOT NULL,
                        rated REAL NOT NULL,
                        helpful REAL NOT NULL,
                        updatedAt DATETIME NOT NULL,
                        PRIMARY KEY (employeeId, topicId)
                    ) WITHOUT ROWID;
                    CREATE INDEX routingStatByTopic ON routingStat(topicId);
                    -- Responsiveness by hour of the week (0-167, UTC, from Monday 00:00), on any topic; hour -1 holds
                    -- every hour together.
                    CREATE TABLE routingHour (
                        employeeId INTEGER NOT NULL REFERENCES employee(id) ON DELETE CASCADE,
                        hourOfWeek INTEGER NOT NULL CHECK (hourOfWeek BETWEEN -1 AND 167),
                        outcomes REAL NOT NULL,
                        timely REAL NOT NULL,
                        updatedAt DATETIME NOT NULL,
                        PRIMARY KEY (employeeId, hourOfWeek)
                    ) WITHOUT ROWID;
                    -- Whether a delivery was a trial: its specialist had few known outcomes on the topic.
                    ALTER TABLE delivery ADD COLUMN trial BOOLEAN NOT NULL DEFAULT 0;
                    """)
        }
        migrator.registerMigration("v13 working hours") { db in
            try db.alter(table: "employee") { t in
                // An IANA name (`Europe/Berlin`); NULL means UTC.
                t.add(column: "timeZone", .text)
                // The directory's notation (`Mon-Fri 09:00-17:30`), as `WorkingHours` formats it; NULL means at any time.
                t.add(column: "workingHours", .text)
                // The last time the bot saw the person in the IM (a message, a read receipt): where the IM server does not
                // report presence, a sign they are at their desk. On the row the candidate query reads anyway.
                t.add(column: "lastActiveAt", .datetime)
            }
        }
        migrator.registerMigration("v14 skill suggestions") { db in try migrateToSkillSuggestions(db) }
        migrator.registerMigration("v15 follow-ups") { db in try migrateToFollowUps(db) }
        migrator.registerMigration("v16 reveals") { db in try migrateToReveals(db) }
        migrator.registerMigration("v17 plain answers") { db in try migrateToPlainAnswers(db) }
        migrator.registerMigration("v18 delivery expectations") { db in
            try db.alter(table: "delivery") { t in
                // With learned routing, the estimated chance of an answer in time when the question went out: a later
                // wave asks nobody more while those still holding it are likely enough to answer (`AnswerDelays`).
                t.add(column: "expectedTimely", .double)
            }
        }
        return migrator
    }

    /// Each employee's place in the org chart as a path of ids (`/1/17/230/`, themselves last) and the count of active
    /// people below them, kept by triggers on every insert, manager change, (de)activation and delete, whichever code
    /// makes it: "everyone below X" is then an index range over `orgPath`, never a walk of the chart. Also a full-text
    /// index of names and handles, for searching a large team, and the indexes the paged team and topic lists read in
    /// order.
    static func migrateToOrgPaths(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE employee ADD COLUMN orgPath TEXT NOT NULL DEFAULT '';
                ALTER TABLE employee ADD COLUMN peopleBelow INTEGER NOT NULL DEFAULT 0;
                """)
        try backfillOrgPaths(db)
        // The ids on a path, as a table: `json_each('[1,17,230]')`. Triggers cannot use a recursive CTE.
        func ids(_ path: String) -> String { "SELECT value FROM json_each('[' || replace(trim(\(path), '/'), '/', ',') || ']')" }
        let managerPath = { (id: String) in "(SELECT manager.orgPath FROM employee AS manager WHERE manager.id = \(id))" }
        try db.execute(
            sql: """
                CREATE INDEX employeeByOrgPath ON employee(orgPath);
                -- A manager's direct reports in name order (binary, as the team page sorts; v10's index sorts
                -- without case for the API), for the team page's first view.
                CREATE INDEX employeeReportsByName ON employee(managerId, isActive, name, handle);
                -- A topic's children in name order, for the admin page's tree.
                CREATE INDEX topicByParentName ON topic(parentId, name, slug);

                CREATE TRIGGER employeeOrgPathInsert AFTER INSERT ON employee BEGIN
                    UPDATE employee SET orgPath = coalesce(\(managerPath("new.managerId")), '/') || new.id || '/' WHERE id = new.id;
                    UPDATE employee SET peopleBelow = peopleBelow + 1 WHERE new.isActive AND id IN (\(ids(managerPath("new.managerId"))));
                END;
                -- Moves the whole subtree, and its weight from the old managers above to the new ones. The weight is the
                -- person's own state after the change, and the (de)activation trigger below counts at the old place, so
                -- one statement changing both comes out right in either order.
                CREATE TRIGGER employeeOrgPathMove AFTER UPDATE OF managerId ON employee WHEN old.managerId IS NOT new.managerId BEGIN
                    UPDATE employee SET peopleBelow = peopleBelow - (new.peopleBelow + new.isActive)
                    WHERE id IN (\(ids("old.orgPath"))) AND id <> new.id;
                    UPDATE employee SET peopleBelow = peopleBelow + (new.peopleBelow + new.isActive)
                    WHERE id IN (\(ids(managerPath("new.managerId"))));
                    UPDATE employee SET orgPath = coalesce(\(managerPath("new.managerId")), '/') || new.id || '/' || substr(orgPath, length(old.orgPath) + 1)
                    WHERE orgPath >= old.orgPath AND orgPath < substr(old.orgPath, 1, length(old.orgPath) - 1) || '0';
                END;
                CREATE TRIGGER employeePeopleBelowActive AFTER UPDATE OF isActive ON employee WHEN old.isActive IS NOT new.isActive BEGIN
                    UPDATE employee SET peopleBelow = peopleBelow + (CASE WHEN new.isActive THEN 1 ELSE -1 END)
                    WHERE id IN (\(ids(managerPath("old.managerId"))));
                END;
                CREATE TRIGGER employeePeopleBelowDelete AFTER DELETE ON employee WHEN old.isActive BEGIN
                    UPDATE employee SET peopleBelow = peopleBelow - 1 WHERE id IN (\(ids("old.orgPath"))) AND id <> old.id;
                END;

                -- Names and handles by word prefix; rowid is the employee's id.
                CREATE VIRTUAL TABLE employeeSearch USING fts5(name, handle, tokenize = 'unicode61 remove_diacritics 2');
                INSERT INTO employeeSearch(rowid, name, handle) SELECT id, name, handle FROM employee;
                CREATE TRIGGER employeeSearchInsert AFTER INSERT ON employee BEGIN
                    INSERT INTO employeeSearch(rowid, name, handle) VALUES (new.id, new.name, new.handle);
                END;
                CREATE TRIGGER employeeSearchUpdate AFTER UPDATE OF name, handle ON employee
                WHEN old.name IS NOT new.name OR old.handle IS NOT new.handle BEGIN
                    UPDATE employeeSearch SET name = new.name, handle = new.handle WHERE rowid = new.id;
                END;
                CREATE TRIGGER employeeSearchDelete AFTER DELETE ON employee BEGIN
                    DELETE FROM employeeSearch WHERE rowid = old.id;
                END;
                """)
    }

    /// Paths and counts for the employees already there, worked out in memory from the manager column: one pass, however
    /// deep the chart. Someone on a (corrupt) manager cycle starts a path of their own.
    private static func backfillOrgPaths(_ db: Database) throws {
        var managerOf: [Int64: Int64] = [:]
        var active: [Int64: Bool] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, managerId, isActive FROM employee") {
            let id: Int64 = row["id"]
            active[id] = row["isActive"]
            if let manager: Int64 = row["managerId"] { managerOf[id] = manager }
        }
        var paths: [Int64: [Int64]] = [:]
        func path(_ id: Int64) -> [Int64] {
            if let known = paths[id] { return known }
            var chain = [id]
            var seen: Set<Int64> = [id]
            var current = id
            while let manager = managerOf[current], active[manager] != nil, !seen.contains(manager) {
                if let known = paths[manager] {
                    chain.append(contentsOf: known.reversed())
                    break
                }
                chain.append(manager)
                seen.insert(manager)
                current = manager
            }
            let result = Array(chain.reversed())
            paths[id] = result
            return result
        }
        var below: [Int64: Int] = [:]
        for id in active.keys {
            let ids = path(id)
            if active[id] == true { for ancestor in ids.dropLast() { below[ancestor, default: 0] += 1 } }
        }
        let update = try db.makeStatement(sql: "UPDATE employee SET orgPath = ?, peopleBelow = ? WHERE id = ?")
        for (id, ids) in paths {
            try update.execute(arguments: ["/" + ids.map(String.init).joined(separator: "/") + "/", below[id] ?? 0, id])
        }
    }
}

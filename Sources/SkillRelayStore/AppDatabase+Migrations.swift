import GRDB

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
        return migrator
    }
}

import GRDB

extension AppDatabase {
    /// Migration "v14 skill suggestions": what the answers suggest about people's tags, for their managers to decide,
    /// and the helpful answers behind each suggestion (so that a rating changed to unhelpful takes its evidence back).
    /// Also an index of questions by when they were asked, for the admin page's day-by-day chart.
    static func migrateToSkillSuggestions(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE skillSuggestion (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    publicId TEXT NOT NULL UNIQUE,
                    employeeId INTEGER NOT NULL REFERENCES employee(id) ON DELETE CASCADE,
                    topicId INTEGER NOT NULL REFERENCES topic(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL CHECK (kind IN ('suggested', 'stale')),
                    status TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'dismissed')),
                    -- suggested: helpful answers; stale: deliveries passed or left unanswered.
                    evidence INTEGER NOT NULL,
                    -- stale: the deliveries with a known outcome the share was taken over; suggested: as evidence.
                    deliveries INTEGER NOT NULL,
                    lastQuestionId INTEGER REFERENCES question(id) ON DELETE SET NULL,
                    createdAt DATETIME NOT NULL,
                    updatedAt DATETIME NOT NULL,
                    decidedAt DATETIME,
                    decidedBy TEXT,
                    level INTEGER CHECK (level BETWEEN 1 AND 5)
                );
                -- One open suggestion or flag per person and topic.
                CREATE UNIQUE INDEX skillSuggestionOpen ON skillSuggestion(employeeId, topicId) WHERE status = 'open';
                -- Whether a dismissal still keeps a person and topic quiet.
                CREATE INDEX skillSuggestionDismissed ON skillSuggestion(employeeId, topicId, kind, decidedAt) WHERE status = 'dismissed';
                -- The open ones newest first, for the managers' list.
                CREATE INDEX skillSuggestionOpenById ON skillSuggestion(id) WHERE status = 'open';
                CREATE TABLE skillSuggestionEvidence (
                    suggestionId INTEGER NOT NULL REFERENCES skillSuggestion(id) ON DELETE CASCADE,
                    answerId INTEGER NOT NULL REFERENCES answer(id) ON DELETE CASCADE,
                    PRIMARY KEY (suggestionId, answerId)
                ) WITHOUT ROWID;
                CREATE INDEX skillSuggestionEvidenceByAnswer ON skillSuggestionEvidence(answerId);
                CREATE INDEX questionByCreatedAt ON question(createdAt);
                """)
    }
}

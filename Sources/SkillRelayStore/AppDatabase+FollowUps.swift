import GRDB

extension AppDatabase {
    /// Migration "v15 follow-ups": the messages asker and specialist exchange after a relayed answer, one thread per
    /// answer, and the IM's references of the messages SkillRelay sent into each thread (the relayed answer, each
    /// follow-up), so that a reply to one of them is read as a follow-up on the right thread.
    static func migrateToFollowUps(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE followUp (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    questionId INTEGER NOT NULL REFERENCES question(id) ON DELETE CASCADE,
                    answerId INTEGER NOT NULL REFERENCES answer(id) ON DELETE CASCADE,
                    sender TEXT NOT NULL CHECK (sender IN ('asker', 'specialist')),
                    text TEXT NOT NULL,
                    sentAt DATETIME NOT NULL
                );
                -- The asker's view reads a question's threads, the inbox one answer's, each in order.
                CREATE INDEX followUpByQuestion ON followUp(questionId, id);
                CREATE INDEX followUpByAnswer ON followUp(answerId, id);
                -- The IM's reference (a Matrix event id) of a message sent into a thread, and whose conversation it
                -- was in: a reply to it continues that thread.
                CREATE TABLE threadReference (
                    reference TEXT PRIMARY KEY,
                    answerId INTEGER NOT NULL REFERENCES answer(id) ON DELETE CASCADE,
                    side TEXT NOT NULL CHECK (side IN ('asker', 'specialist')),
                    sentAt DATETIME NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX threadReferenceByAnswer ON threadReference(answerId, side, sentAt);
                """)
    }
}

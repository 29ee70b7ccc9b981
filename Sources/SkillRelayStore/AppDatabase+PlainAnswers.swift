import GRDB

extension AppDatabase {
    /// Labels that do not identify, and answers typed as plain IM messages (migration "v17 plain answers").
    ///
    /// - `answer.labelKind` (`level`, `band` or `none`) with `labelLevel` or `labelBand`: what the asker was told about
    ///   who answered, decided once when the answer was relayed. NULL on answers relayed before, which were told the
    ///   delivery's exact level, and still read so.
    /// - `heldAnswer`: a plain message taken as the answer to a question its sender held, kept until `relayAt` (a
    ///   minute), when the question worker relays it (`relayed`); `undo` before then withdraws it (`withdrawn`); an
    ///   answer given otherwise meanwhile supersedes it (`superseded`). Rows stay, so `undo` can tell "too late".
    /// - `plainChoice`: a plain message from someone holding several questions, waiting for them to say which one (by
    ///   the number of `options`, a JSON array of delivery public ids); one per person.
    static func migrateToPlainAnswers(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE answer ADD COLUMN labelKind TEXT CHECK (labelKind IN ('level', 'band', 'none'));
                ALTER TABLE answer ADD COLUMN labelLevel INTEGER;
                ALTER TABLE answer ADD COLUMN labelBand TEXT;
                CREATE TABLE heldAnswer (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    deliveryId INTEGER NOT NULL REFERENCES delivery(id) ON DELETE CASCADE,
                    employeeId INTEGER NOT NULL REFERENCES employee(id) ON DELETE CASCADE,
                    text TEXT NOT NULL,
                    heldAt DATETIME NOT NULL,
                    relayAt DATETIME NOT NULL,
                    state TEXT NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'relayed', 'withdrawn', 'superseded'))
                );
                CREATE INDEX heldAnswerDue ON heldAnswer(state, relayAt);
                CREATE INDEX heldAnswerByEmployee ON heldAnswer(employeeId, id);
                CREATE INDEX heldAnswerByDelivery ON heldAnswer(deliveryId);
                CREATE TABLE plainChoice (
                    employeeId INTEGER PRIMARY KEY REFERENCES employee(id) ON DELETE CASCADE,
                    text TEXT NOT NULL,
                    options TEXT NOT NULL,
                    createdAt DATETIME NOT NULL
                );
                """)
    }
}

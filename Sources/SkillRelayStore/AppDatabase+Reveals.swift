import GRDB

extension AppDatabase {
    /// Migration "v16 reveals": where revealing stands between an asker and each answerer (one row per delivery whose
    /// answer was relayed, once either side offered). Which IM message belongs to which answer's exchange, so that a
    /// reply to it (`reveal`, `accept`, `decline`) acts on that pair, is v15's `threadReference`.
    static func migrateToReveals(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE reveal (
                    deliveryId INTEGER PRIMARY KEY REFERENCES delivery(id) ON DELETE CASCADE,
                    offeredBy TEXT NOT NULL CHECK (offeredBy IN ('asker', 'specialist')),
                    -- offered: waiting for the other side; revealed: both agreed; declined: final.
                    state TEXT NOT NULL CHECK (state IN ('offered', 'revealed', 'declined')),
                    offeredAt DATETIME NOT NULL,
                    decidedAt DATETIME
                );
                """)
    }
}

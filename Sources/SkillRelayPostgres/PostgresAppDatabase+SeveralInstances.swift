extension PostgresAppDatabase {
    /// What several instances share beyond SQLite's schema: live events too large for a notification
    /// (`PostgresEventRelay`), and each caller's recent hits under a rate limit (`PostgresRateLimiter`).
    static let severalInstances: [String] = [
        """
        CREATE TABLE relayedEvent (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            payload text NOT NULL,
            createdAt timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CREATE INDEX relayedEventByCreatedAt ON relayedEvent(createdAt)",
        // One row per limit and caller: the times of their hits still inside the window, oldest first, and whether the
        // latest attempt was let through (what the upsert reports back).
        """
        CREATE TABLE rateLimit (
            scope text NOT NULL,
            key text NOT NULL,
            hits timestamptz[] NOT NULL,
            accepted boolean NOT NULL,
            lastHitAt timestamptz NOT NULL,
            PRIMARY KEY (scope, key)
        )
        """,
        "CREATE INDEX rateLimitByLastHit ON rateLimit(scope, lastHitAt)",
    ]
}

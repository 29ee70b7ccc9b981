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
        // latest attempt was let through (what the upsert reports back). Since "pg v8" the hits are rows of their own
        // (`rateLimitHitsByNumber`) and these two columns are no longer read.
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

    /// A caller's hits one row each, numbered in the order they were let through, instead of an array in the caller's
    /// row: an attempt rebuilt the whole array (every hit still inside the window, unnested, filtered and put back), so
    /// a caller with a high limit paid for every hit of the last minute on every attempt — 1.7 ms at 2,300 hits, all of
    /// it holding the row that the caller's other attempts queue on.
    /// - `rateLimit.counted` is how many hits the caller has had let through; `rateLimitHit` keeps the last ones, at
    ///   most the limit, by number.
    /// - `rateLimitAttempt(scope, key, at, atMost, windowStart)` locks the caller's row (making it if needed) and looks
    ///   up one hit by key: the one `atMost` places back. While that hit is inside the window the caller has had its
    ///   limit (`passed` false, and `oldestAt` is that hit's time: the caller may come back a window after it);
    ///   otherwise the attempt is numbered, the hit that no later attempt will look at is dropped, and `passed` is
    ///   true. Hits are let through in the order of their numbers, so "the limit-th hit back is inside the window" is
    ///   "the window holds the limit already".
    /// - The arrays already counted become numbered rows. `hits` and `accepted` are no longer read; they stay (`hits`
    ///   empty) for an instance of an older build still running during the upgrade, which keeps counting there on its
    ///   own until it is replaced.
    static let rateLimitHitsByNumber: [String] = [
        "ALTER TABLE rateLimit ADD COLUMN counted bigint NOT NULL DEFAULT 0",
        """
        CREATE TABLE rateLimitHit (
            scope text NOT NULL,
            key text NOT NULL,
            number bigint NOT NULL,
            at timestamptz NOT NULL,
            PRIMARY KEY (scope, key, number),
            FOREIGN KEY (scope, key) REFERENCES rateLimit(scope, key) ON DELETE CASCADE
        )
        """,
        """
        INSERT INTO rateLimitHit (scope, key, number, at)
        SELECT rateLimit.scope, rateLimit.key, kept.number, kept.hit FROM rateLimit CROSS JOIN LATERAL unnest(rateLimit.hits) WITH ORDINALITY AS kept(hit, number)
        """,
        "UPDATE rateLimit SET counted = cardinality(hits), hits = '{}'",
        """
        CREATE FUNCTION rateLimitAttempt(
            ofScope text, ofKey text, atTime timestamptz, atMost bigint, windowStart timestamptz, OUT passed boolean, OUT oldestAt timestamptz
        ) LANGUAGE plpgsql AS $$
        DECLARE
            hitsSoFar bigint;
            limitingAt timestamptz;
        BEGIN
            -- The caller's row, locked until this attempt is decided: attempts on every instance queue here.
            INSERT INTO rateLimit AS limited (scope, key, hits, accepted, lastHitAt) VALUES (ofScope, ofKey, '{}', true, atTime)
            ON CONFLICT (scope, key) DO UPDATE SET lastHitAt = limited.lastHitAt
            RETURNING limited.counted INTO hitsSoFar;
            SELECT hit.at INTO limitingAt FROM rateLimitHit AS hit
            WHERE hit.scope = ofScope AND hit.key = ofKey AND hit.number = hitsSoFar + 1 - atMost;
            IF limitingAt > windowStart THEN
                passed := false;
                oldestAt := limitingAt;
                RETURN;
            END IF;
            INSERT INTO rateLimitHit (scope, key, number, at) VALUES (ofScope, ofKey, hitsSoFar + 1, atTime);
            DELETE FROM rateLimitHit AS hit WHERE hit.scope = ofScope AND hit.key = ofKey AND hit.number <= hitsSoFar + 1 - atMost;
            UPDATE rateLimit AS limited SET counted = hitsSoFar + 1, accepted = true, lastHitAt = greatest(limited.lastHitAt, atTime)
            WHERE limited.scope = ofScope AND limited.key = ofKey;
            passed := true;
        END $$
        """,
    ]
}

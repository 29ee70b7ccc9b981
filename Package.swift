// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "SkillRelay",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "skillrelay", targets: ["SkillRelayCLI"]),
        .executable(name: "skillrelay-bench", targets: ["SkillRelayBenchmarks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // SHA-256 for token hashes (and HMAC for callbacks later): not something to write by hand.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // The web page's sessions (cookie, session storage over a persist driver, authenticator): not ours to write.
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        // The web page's templates, HTML-escaped by default.
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // PostgreSQL for deployments of several instances: the wire protocol, pooling and LISTEN/NOTIFY are not ours to
        // write.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // Only for the TLS context of the connection SkillRelay opens to check a PostgreSQL URL before pooling.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // The domain: models, rules, ports. No I/O and no framework imports.
        .target(name: "SkillRelayDomain"),
        // Token secrets and their SHA-256 hashes, shared by both stores.
        .target(name: "SkillRelaySecrets", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // The skills directory in SQLite through GRDB.
        .target(
            name: "SkillRelayStore",
            dependencies: [
                "SkillRelayDomain",
                "SkillRelaySecrets",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The same ports on PostgreSQL through postgres-nio, for several instances sharing one database.
        .target(
            name: "SkillRelayPostgres",
            dependencies: [
                "SkillRelayDomain",
                "SkillRelaySecrets",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `skillrelay db copy`: every row of one SkillRelay database into another, SQLite and PostgreSQL either way.
        .target(
            name: "SkillRelayDatabaseCopy",
            dependencies: [
                "SkillRelayStore",
                "SkillRelayPostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The embedded `local` IM: presence and inboxes inside SkillRelay itself.
        .target(name: "SkillRelayLocalIM", dependencies: ["SkillRelayDomain"]),
        // Matrix end-to-end encryption's cryptography, Olm and Megolm, on swift-crypto's primitives: no I/O. Written
        // here rather than linking libolm, which is deprecated upstream and would make every build need its headers.
        .target(
            name: "SkillRelayOlm",
            dependencies: [.product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto")]
        ),
        // Matrix: presence, questions and answers through a homeserver's client-server API, end-to-end encrypted where
        // the room is.
        .target(
            name: "SkillRelayMatrix",
            dependencies: [
                "SkillRelayDomain",
                "SkillRelayOlm",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Signed POSTs to bots' callback URLs.
        .target(
            name: "SkillRelayCallbacks",
            dependencies: [
                "SkillRelayDomain",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The web page's templates, stylesheet and script, and the renderer that fills them.
        .target(
            name: "SkillRelayWeb",
            dependencies: [.product(name: "Mustache", package: "swift-mustache")],
            resources: [.copy("Templates"), .copy("Static")]
        ),
        // The HTTP API and the web page on Hummingbird 2.
        .target(
            name: "SkillRelayServer",
            dependencies: [
                "SkillRelayDomain",
                "SkillRelayWeb",
                // Only its MustacheParent: the page structs name their fields for the renderer instead of Mirror.
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/openapi.yaml")]
        ),
        // `skillrelay simulate`: the real service and store on a virtual clock, with simulated people.
        .target(name: "SkillRelaySimulation", dependencies: ["SkillRelayDomain", "SkillRelayStore"]),
        // The `skillrelay` command: parses arguments and hands off.
        .executableTarget(
            name: "SkillRelayCLI",
            dependencies: [
                "SkillRelayDomain",
                "SkillRelayStore",
                "SkillRelayPostgres",
                "SkillRelayDatabaseCopy",
                "SkillRelayServer",
                "SkillRelayLocalIM",
                "SkillRelayMatrix",
                "SkillRelayCallbacks",
                "SkillRelaySimulation",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        // Test doubles shared by the test targets: a settable clock and in-process fakes, each named as such.
        .target(
            name: "SkillRelayTestSupport",
            dependencies: [
                "SkillRelayDomain", "SkillRelayPostgres", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/SkillRelayTestSupport"),
        // Benchmarks: each figure next to a baseline measured in the same run (see BENCHMARKS.md).
        .executableTarget(
            name: "SkillRelayBenchmarks",
            dependencies: [
                "SkillRelayDomain",
                "SkillRelayStore",
                "SkillRelayMatrix",
                "SkillRelayPostgres",
                "SkillRelayDatabaseCopy",
                // For a free port to start servers on.
                "SkillRelayTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SkillRelayDomainTests", dependencies: ["SkillRelayDomain", "SkillRelayTestSupport"]),
        // make_vectors.py is how LibolmVectors.swift was made (with libolm, through python-olm).
        .testTarget(name: "SkillRelayOlmTests", dependencies: ["SkillRelayOlm"], exclude: ["make_vectors.py"]),
        .testTarget(
            name: "SkillRelayStoreTests",
            dependencies: [
                "SkillRelayDomain", "SkillRelayStore", "SkillRelayPostgres", "SkillRelaySecrets", "SkillRelayTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "SkillRelayServerTests",
            dependencies: [
                "SkillRelayDomain",
                "SkillRelayStore",
                "SkillRelayServer",
                "SkillRelayLocalIM",
                "SkillRelayCallbacks",
                "SkillRelayTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                // Only to hold the database's write lock from a second connection, as another program would.
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "SkillRelayMatrixTests",
            dependencies: [
                "SkillRelayDomain",
                "SkillRelayMatrix",
                "SkillRelayOlm",
                "SkillRelayStore",
                "SkillRelayTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Against a real Synapse (Scripts/synapse.sh) and a real SkillRelay process.
        .testTarget(
            name: "SkillRelayIntegrationTests",
            dependencies: ["SkillRelayTestSupport", .product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),
        .testTarget(
            name: "SkillRelaySimulationTests", dependencies: ["SkillRelaySimulation", "SkillRelayStore", "SkillRelayDomain", "SkillRelayTestSupport"]),
        // Round trips SQLite → PostgreSQL → SQLite against a real PostgreSQL (SKILLRELAY_TEST_POSTGRES_URL).
        .testTarget(
            name: "SkillRelayDatabaseCopyTests",
            dependencies: [
                "SkillRelayDatabaseCopy", "SkillRelayDomain", "SkillRelayStore", "SkillRelayPostgres", "SkillRelayLocalIM", "SkillRelayTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SkillRelayCLITests",
            dependencies: [
                "SkillRelayDomain", "SkillRelayStore", "SkillRelayTestSupport",
                // Two instances' event streams read at once, as a browser would.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SkillRelayDomain

/// hummingbird-auth's session storage in the directory's database (through the domain's `SessionStore` port), so
/// sessions survive a restart. Expiry follows the injected clock; run as a service, it also deletes expired sessions
/// and sign-in links every so often.
public struct DatabasePersistDriver: PersistDriver {
    let store: any SessionStore
    let signIn: SignInService?
    let clock: any WallClock
    let logger: Logger
    let purgeInterval: Duration

    public init(
        store: any SessionStore, signIn: SignInService? = nil, clock: any WallClock = SystemWallClock(),
        logger: Logger = Logger(label: "skillrelay.web"),
        purgeInterval: Duration = .seconds(3600)
    ) {
        self.store = store
        self.signIn = signIn
        self.clock = clock
        self.logger = logger
        self.purgeInterval = purgeInterval
    }

    public func create<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        guard try await store.insertSession(key: key, value: try JSONEncoder().encode(value), expiresAt: expiry(expires)) else {
            throw PersistError.duplicate
        }
    }

    public func set<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        try await store.upsertSession(key: key, value: try JSONEncoder().encode(value), expiresAt: expiry(expires))
    }

    public func get<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> Object? {
        try await getWithTTL(key: key, as: type)?.object
    }

    public func getWithTTL<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> (object: Object, ttl: Duration?)? {
        guard let (data, expiresAt) = try await store.session(key: key, now: clock.now()) else { return nil }
        guard let object = try? JSONDecoder().decode(Object.self, from: data) else { throw PersistError.invalidConversion }
        let ttl = expiresAt.map { Duration.milliseconds(Int64(($0.timeIntervalSince(clock.now()) * 1000).rounded())) }
        return (object, ttl)
    }

    public func remove(key: String) async throws {
        try await store.deleteSession(key: key)
    }

    /// Deletes expired sessions and links now.
    public func purge() async throws {
        let sessions = try await store.purgeSessions(before: clock.now())
        let links = try await signIn?.purgeExpiredLinks() ?? 0
        if sessions + links > 0 {
            logger.debug("purged expired web sessions and links", metadata: ["skillrelay.sessions": "\(sessions)", "skillrelay.links": "\(links)"])
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await purge()
                } catch is CancellationError {
                    // Stopping: the database call was cancelled, nothing failed.
                } catch {
                    logger.error("purging web sessions failed", metadata: ["skillrelay.error": "\(error)"])
                }
                try? await Task.sleep(for: purgeInterval)
            }
        }
    }

    private func expiry(_ duration: Duration?) -> Date? {
        duration.map { clock.now().addingTimeInterval(Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18) }
    }
}

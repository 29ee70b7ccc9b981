import Foundation
import NIOCore
import SkillRelayDomain
import Synchronization

/// Presence from a Matrix homeserver: what the bot's sync stream last reported of a person while that stream is live;
/// otherwise one `GET /presence/{userId}/status` per person, at most `concurrency` at a time, each under `timeout`,
/// behind a cache of `cacheTTL`. A server that keeps failing trips a breaker: for `breakerCooldown` nobody is known to
/// be available, so questions wait instead of going out blindly.
///
/// Only people in their direct room with the bot can be reached, so only they can be available: anyone else is
/// `unknown` without a request, and someone with no room at all is invited to a new one (at most once a day), in the
/// background (`MatrixRooms.inviteInBackground`).
public final class MatrixPresenceSource: PresenceSource, Sendable {
    let client: MatrixClient
    let rooms: MatrixRooms
    let stream: MatrixPresenceStream?
    let concurrency: Int
    let timeout: TimeAmount
    let cacheTTL: TimeInterval
    let breakerThreshold: Int
    let breakerCooldown: TimeInterval
    let clock: any WallClock

    private struct State {
        var cache: [String: (presence: Presence, at: Date)] = [:]
        var consecutiveFailures = 0
        var openUntil: Date?
        var requests = 0
        /// The bot's own user id, once asked.
        var bot: String?
        /// What the last probe found: where the homeserver does not report presence, it would only say `offline` of
        /// everyone, so nobody reachable is asked for.
        var reporting = PresenceReporting.unknown
    }

    private let state = Mutex(State())

    public init(
        client: MatrixClient, rooms: MatrixRooms, stream: MatrixPresenceStream? = nil, concurrency: Int = 50, timeout: TimeAmount = .seconds(1),
        cacheTTL: TimeInterval = 15, breakerThreshold: Int = 5, breakerCooldown: TimeInterval = 30, clock: any WallClock = SystemWallClock()
    ) {
        self.client = client
        self.rooms = rooms
        self.stream = stream
        self.concurrency = concurrency
        self.timeout = timeout
        self.cacheTTL = cacheTTL
        self.breakerThreshold = breakerThreshold
        self.breakerCooldown = breakerCooldown
        self.clock = clock
    }

    /// Presence requests sent so far (for tests and benchmarks).
    public var requestCount: Int { state.withLock { $0.requests } }

    public func presence(of people: [PresenceQuery]) async -> [String: Presence] {
        let now = clock.now()
        // A store that cannot be read means nobody is known to be reachable, never everybody.
        guard let contacts = try? await rooms.contacts(of: people.compactMap(\.imID)) else {
            return Dictionary(people.map { ($0.handle, Presence.unknown) }, uniquingKeysWith: { first, _ in first })
        }
        var result: [String: Presence] = [:]
        var toFetch: [(handle: String, userID: String)] = []
        var toInvite: [String] = []
        let breakerOpen = state.withLock { state in
            if let until = state.openUntil, until > now { return true }
            for person in people {
                guard let userID = person.imID else {
                    result[person.handle] = .unknown
                    continue
                }
                let contact = contacts[userID] ?? .stranger
                guard contact.isReachable else {
                    // Not in a room with the bot: a question would not reach them. Invited (in the background) if they may be.
                    result[person.handle] = .unknown
                    if rooms.mayInvite(contact, now: now) { toInvite.append(userID) }
                    continue
                }
                if state.reporting == .notReported {
                    // What the homeserver would answer (Synapse with presence off says offline of everyone).
                    result[person.handle] = .offline
                } else if let streamed = stream?.presence(of: userID, now: now) {
                    result[person.handle] = streamed
                } else if let cached = state.cache[userID], now.timeIntervalSince(cached.at) < cacheTTL {
                    result[person.handle] = cached.presence
                } else {
                    toFetch.append((person.handle, userID))
                }
            }
            return false
        }
        if breakerOpen { return Dictionary(people.map { ($0.handle, Presence.unknown) }, uniquingKeysWith: { first, _ in first }) }
        await rooms.inviteInBackground(toInvite)
        await withTaskGroup(of: (String, String, Presence?).self) { group in
            var nextFetch = toFetch.makeIterator()
            func addNext() -> Bool {
                guard let person = nextFetch.next() else { return false }
                group.addTask { (person.handle, person.userID, await self.fetch(person.userID)) }
                return true
            }
            for _ in 0..<concurrency where !addNext() { break }
            while let finished = await group.next() {
                defer { _ = addNext() }
                let (handle, userID, presence) = finished
                result[handle] = presence ?? .unknown
                state.withLock { state in
                    if let presence {
                        state.cache[userID] = (presence, now)
                        state.consecutiveFailures = 0
                    } else {
                        state.consecutiveFailures += 1
                        if state.consecutiveFailures >= breakerThreshold { state.openUntil = now.addingTimeInterval(breakerCooldown) }
                    }
                }
            }
        }
        return result
    }

    /// Sets the bot online and reads its own presence back: a homeserver that reports presence says `online` (or
    /// `unavailable`); one with presence switched off says `offline` whatever the bot set. A failure of either call is
    /// `unknown`.
    public func probePresenceReporting() async -> PresenceReporting {
        let reporting: PresenceReporting
        do {
            let bot: String
            if let known = state.withLock({ $0.bot }) {
                bot = known
            } else {
                bot = try await client.whoAmI()
                state.withLock { $0.bot = bot }
            }
            try await client.setPresence(of: bot, to: "online")
            let status = try await client.presence(of: bot, timeout: .seconds(10))
            switch status.presence {
            case "online", "unavailable": reporting = .reported
            case "offline": reporting = .notReported
            default: reporting = .unknown
            }
        } catch {
            reporting = .unknown
        }
        state.withLock { $0.reporting = reporting }
        return reporting
    }

    /// One person's presence; `nil` when the server failed (error, timeout), `.unknown` when it refused to say.
    private func fetch(_ userID: String) async -> Presence? {
        state.withLock { $0.requests += 1 }
        do {
            return Self.map(try await client.presence(of: userID, timeout: timeout))
        } catch let failure as MatrixClient.Failure where failure.status == 403 || failure.status == 404 {
            // Not shown to the bot although they are in their room as far as SkillRelay knows: the room may be gone
            // (stored before membership was followed, or a departure missed). Checked, so the next lookup knows.
            try? await rooms.recheck(userID)
            return .unknown
        } catch {
            return nil
        }
    }

    /// online → available, unavailable → away, offline → offline; anything else unknown.
    static func map(_ status: PresenceStatus) -> Presence {
        switch status.presence {
        case "online": .available
        case "unavailable": .away
        case "offline": .offline
        default: .unknown
        }
    }
}

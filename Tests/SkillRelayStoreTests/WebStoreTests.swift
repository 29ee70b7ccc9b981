import Foundation
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

/// The web page's state in the database, on both stores: sessions by the hash of their key, and sign-in links that
/// sign in once, before they expire.
@Suite struct WebStoreTests {
    @Test(arguments: StoreBackend.available) func sessionsAreSetReadExpiredAndRemoved(backend: StoreBackend) async throws {
        try await withSample(backend) { (database, _) async throws in
            let store = database.webStore()
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let value = Data(#"{"handle":"lin.chen"}"#.utf8)
            #expect(try await store.insertSession(key: "key-1", value: value, expiresAt: now.addingTimeInterval(3600)))
            // A key in use is not taken twice.
            #expect(try await !store.insertSession(key: "key-1", value: Data("other".utf8), expiresAt: nil))
            let read = try #require(try await store.session(key: "key-1", now: now))
            #expect(read.value == value && read.expiresAt == now.addingTimeInterval(3600))
            #expect(try await store.session(key: "key-2", now: now) == nil)
            // Only the hash of the key is kept.
            #expect(try await database.count("SELECT count(*) FROM webSession") == 1)
            #expect(try await database.texts("SELECT value FROM webSession") == [#"{"handle":"lin.chen"}"#])
            // An update without an expiry keeps the one there was; past it the session is gone.
            try await store.upsertSession(key: "key-1", value: Data("changed".utf8), expiresAt: nil)
            #expect(try await store.session(key: "key-1", now: now)?.value == Data("changed".utf8))
            #expect(try await store.session(key: "key-1", now: now)?.expiresAt == now.addingTimeInterval(3600))
            #expect(try await store.session(key: "key-1", now: now.addingTimeInterval(3600)) == nil)
            try await store.upsertSession(key: "key-2", value: Data("new".utf8), expiresAt: now.addingTimeInterval(60))
            try await store.upsertSession(key: "key-3", value: Data("forever".utf8), expiresAt: nil)
            #expect(try await store.session(key: "key-3", now: now.addingTimeInterval(1_000_000))?.expiresAt == nil)
            // Purging removes what expired before the time given, and nothing that never expires.
            #expect(try await store.purgeSessions(before: now.addingTimeInterval(120)) == 1)
            #expect(try await store.session(key: "key-2", now: now) == nil)
            #expect(try await store.session(key: "key-1", now: now) != nil)
            try await store.deleteSession(key: "key-1")
            #expect(try await store.session(key: "key-1", now: now) == nil)
            #expect(try await database.count("SELECT count(*) FROM webSession") == 1)
        }
    }

    @Test(arguments: StoreBackend.available) func aSignInLinkWorksOnceBeforeItExpires(backend: StoreBackend) async throws {
        try await withSample(backend) { (database, directory) async throws in
            let store = database.webStore()
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let link = LoginLink(secret: "secret-of-the-link", expiresAt: now.addingTimeInterval(900))
            try await store.createLoginLink(link, for: "lin.chen", now: now)
            // Looking does not use it; redeeming does, once.
            let owner = try #require(try await store.loginLinkOwner(secret: link.secret, now: now))
            #expect(owner.caller == Caller(identity: .employee("lin.chen"), isManager: true) && owner.name == "Lin Chen")
            #expect(try await store.loginLinkOwner(secret: link.secret + "x", now: now) == nil)
            #expect(try await store.redeemLoginLink(secret: link.secret, now: now)?.caller.handle == "lin.chen")
            #expect(try await store.redeemLoginLink(secret: link.secret, now: now) == nil)
            #expect(try await store.loginLinkOwner(secret: link.secret, now: now) == nil)
            // An expired link signs nobody in, and is purged.
            let late = LoginLink(secret: "late-link", expiresAt: now.addingTimeInterval(60))
            try await store.createLoginLink(late, for: "ji-woo.kang", now: now)
            #expect(try await store.redeemLoginLink(secret: late.secret, now: now.addingTimeInterval(60)) == nil)
            #expect(try await store.purgeLoginLinks(before: now.addingTimeInterval(120)) == 1)
            #expect(try await database.count("SELECT count(*) FROM loginLink") == 1)
            // Nobody unknown or inactive gets a link; someone made inactive since cannot use theirs.
            await #expect(throws: DirectoryError.employeeNotFound("nobody")) {
                try await store.createLoginLink(LoginLink(secret: "n", expiresAt: now.addingTimeInterval(60)), for: "nobody", now: now)
            }
            await #expect(throws: DirectoryError.employeeNotFound("o.walsh")) {
                try await store.createLoginLink(LoginLink(secret: "o", expiresAt: now.addingTimeInterval(60)), for: "o.walsh", now: now)
            }
            let leaving = LoginLink(secret: "leaving-link", expiresAt: now.addingTimeInterval(900))
            try await store.createLoginLink(leaving, for: "ji-woo.kang", now: now)
            _ = try await directory.updateEmployee("ji-woo.kang", with: EmployeePatch(isActive: false), by: .cliOperator)
            #expect(try await store.redeemLoginLink(secret: leaving.secret, now: now) == nil)
            #expect(try await store.signedInPerson(handle: "ji-woo.kang") == nil)
            #expect(try await store.signedInPerson(handle: "lakshmi.gupta")?.caller.isAdmin == true)
        }
    }

    @Test(arguments: StoreBackend.available) func personalStatusIsOfflineUntilSetAndAPauseOnlyWhileItLasts(backend: StoreBackend) async throws {
        let clock = TestClock()
        try await withSample(backend, clock: clock) { (database, _) async throws in
            let store = database.webStore()
            let now = clock.now()
            let status = try await store.personalStatus(of: "lin.chen", now: now)
            #expect(status.presence == .offline && status.pausedUntil == nil)
            // Available, and paused until the moment of the import (the test clock's now).
            try await database.execute(
                "INSERT INTO localPresence (employeeId, status, updatedAt) SELECT id, 'available', createdAt FROM employee WHERE handle = 'lin.chen'")
            try await database.execute("UPDATE employee SET pausedUntil = createdAt WHERE handle = 'lin.chen'")
            let paused = try await store.personalStatus(of: "lin.chen", now: now.addingTimeInterval(-60))
            #expect(paused.presence == .available && paused.pausedUntil == now)
            #expect(try await store.personalStatus(of: "lin.chen", now: now).pausedUntil == nil)
            await #expect(throws: DirectoryError.employeeNotFound("nobody")) { try await store.personalStatus(of: "nobody", now: now) }
        }
    }
}

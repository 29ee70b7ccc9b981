import Foundation
import Testing

@testable import SkillRelayOlm

/// Olm between two Swift accounts.
@Suite struct OlmSessionTests {
    @Test func messagesFlowBothWaysAndTheSessionIDsAgree() throws {
        let alice = OlmAccount()
        var bob = OlmAccount()
        bob.generateOneTimeKeys(count: 1)
        let oneTimeKey = try #require(bob.unpublishedOneTimeKeys.values.first)
        var aliceSession = try alice.createOutboundSession(theirIdentityKey: bob.curve25519Key, theirOneTimeKey: oneTimeKey)

        let first = try aliceSession.encrypt("hello Bob")
        #expect(first.type == 0)
        var (bobSession, plaintext) = try bob.createInboundSession(theirIdentityKey: alice.curve25519Key, preKeyMessage: first.body)
        #expect(plaintext == "hello Bob")
        #expect(bobSession.sessionID == aliceSession.sessionID)

        let reply = try bobSession.encrypt("hello Alice ✓")
        #expect(reply.type == 1)
        #expect(try aliceSession.decrypt(reply) == "hello Alice ✓")
    }

    @Test func messagesArePreKeyUntilTheFirstReply() throws {
        var pair = try OlmPair()
        let second = try pair.aliceSession.encrypt("still pre-key")
        #expect(second.type == 0)
        #expect(pair.bobSession.matches(preKeyMessage: second.body, theirIdentityKey: pair.alice.curve25519Key))
        #expect(try pair.bobSession.decrypt(second) == "still pre-key")

        #expect(try pair.aliceSession.decrypt(try pair.bobSession.encrypt("reply")) == "reply")
        #expect(try pair.aliceSession.encrypt("now normal").type == 1)
    }

    @Test func preKeyMessageMatchesOnlyItsSession() throws {
        var pair = try OlmPair()
        var other = try OlmPair()
        let message = try pair.aliceSession.encrypt("x")
        #expect(pair.bobSession.matches(preKeyMessage: message.body, theirIdentityKey: pair.alice.curve25519Key))
        #expect(!pair.bobSession.matches(preKeyMessage: message.body, theirIdentityKey: pair.bob.curve25519Key))
        #expect(!other.bobSession.matches(preKeyMessage: message.body, theirIdentityKey: pair.alice.curve25519Key))
        #expect(!pair.bobSession.matches(preKeyMessage: "not base64!", theirIdentityKey: pair.alice.curve25519Key))
        _ = try other.aliceSession.encrypt("y")
    }

    @Test func inboundSessionConsumesTheOneTimeKey() throws {
        let alice = OlmAccount()
        var bob = OlmAccount()
        bob.generateOneTimeKeys(count: 2)
        #expect(bob.oneTimeKeyCount == 2)
        let oneTimeKey = try #require(bob.unpublishedOneTimeKeys.values.first)
        var session = try alice.createOutboundSession(theirIdentityKey: bob.curve25519Key, theirOneTimeKey: oneTimeKey)
        let message = try session.encrypt("once")

        _ = try bob.createInboundSession(theirIdentityKey: alice.curve25519Key, preKeyMessage: message.body)
        #expect(bob.oneTimeKeyCount == 1)
        #expect(!bob.unpublishedOneTimeKeys.values.contains(oneTimeKey))
        #expect(throws: OlmError.unknownOneTimeKey) {
            try bob.createInboundSession(theirIdentityKey: alice.curve25519Key, preKeyMessage: message.body)
        }
    }

    @Test func failedInboundSessionLeavesTheAccountUnchanged() throws {
        let alice = OlmAccount()
        var bob = OlmAccount()
        bob.generateOneTimeKeys(count: 1)
        let oneTimeKey = try #require(bob.unpublishedOneTimeKeys.values.first)
        var session = try alice.createOutboundSession(theirIdentityKey: bob.curve25519Key, theirOneTimeKey: oneTimeKey)
        let message = try session.encrypt("tampered")

        #expect(throws: OlmError.badMAC) {
            try bob.createInboundSession(theirIdentityKey: alice.curve25519Key, preKeyMessage: flippingByte(in: message.body, fromEnd: 0))
        }
        #expect(throws: OlmError.identityKeyMismatch) {
            try bob.createInboundSession(theirIdentityKey: bob.curve25519Key, preKeyMessage: message.body)
        }
        #expect(bob.oneTimeKeyCount == 1)
        #expect(try bob.createInboundSession(theirIdentityKey: alice.curve25519Key, preKeyMessage: message.body).plaintext == "tampered")
    }

    @Test func outOfOrderMessagesDecrypt() throws {
        var pair = try OlmPair()
        let messages = try (0..<4).map { try pair.bobSession.encrypt("message \($0)") }
        for index in [3, 0, 2, 1] {
            #expect(try pair.aliceSession.decrypt(messages[index]) == "message \(index)")
        }
    }

    @Test func replayedMessageIsRejected() throws {
        var pair = try OlmPair()
        let first = try pair.bobSession.encrypt("first")
        let second = try pair.bobSession.encrypt("second")
        #expect(try pair.aliceSession.decrypt(first) == "first")
        #expect(try pair.aliceSession.decrypt(second) == "second")
        #expect(throws: OlmError.unknownMessageKey) { try pair.aliceSession.decrypt(first) }
        #expect(throws: OlmError.unknownMessageKey) { try pair.aliceSession.decrypt(second) }
    }

    @Test func tamperedMACIsRejectedWithTheSessionUnchanged() throws {
        var pair = try OlmPair()
        let message = try pair.bobSession.encrypt("intact")
        let tampered = OlmMessage(type: 1, body: flippingByte(in: message.body, fromEnd: 0))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let before = try encoder.encode(pair.aliceSession)
        #expect(throws: OlmError.badMAC) { try pair.aliceSession.decrypt(tampered) }
        #expect(try encoder.encode(pair.aliceSession) == before)
        #expect(try pair.aliceSession.decrypt(message) == "intact")
    }

    @Test func ratchetTurnsManyTimesWithLateMessagesFromOldChains() throws {
        var pair = try OlmPair()
        var late: [(OlmMessage, String)] = []
        for round in 0..<8 {
            let toAlice = try pair.bobSession.encrypt("to Alice \(round)")
            late.append((try pair.bobSession.encrypt("late to Alice \(round)"), "late to Alice \(round)"))
            #expect(try pair.aliceSession.decrypt(toAlice) == "to Alice \(round)")
            let toBob = try pair.aliceSession.encrypt("to Bob \(round)")
            #expect(toBob.type == 1)
            #expect(try pair.bobSession.decrypt(toBob) == "to Bob \(round)")
        }
        // Five receiver chains are kept, as libolm: the last five rounds' late messages still decrypt.
        for (message, plaintext) in late.suffix(OlmRatchet.maxReceiverChains) {
            #expect(try pair.aliceSession.decrypt(message) == plaintext)
        }
        #expect(throws: OlmError.self) { try pair.aliceSession.decrypt(late[0].0) }
    }

    @Test func skippedKeysAreCappedAtForty() throws {
        var pair = try OlmPair()
        let messages = try (0..<50).map { try pair.bobSession.encrypt("m\($0)") }
        #expect(try pair.aliceSession.decrypt(messages[49]) == "m49")
        #expect(throws: OlmError.unknownMessageKey) { try pair.aliceSession.decrypt(messages[8]) }
        #expect(try pair.aliceSession.decrypt(messages[9]) == "m9")
        #expect(try pair.aliceSession.decrypt(messages[48]) == "m48")
    }

    @Test func chainGapBeyondTwoThousandIsRejected() throws {
        var pair = try OlmPair()
        var last = try pair.bobSession.encrypt("0")
        for index in 1...2001 { last = try pair.bobSession.encrypt("\(index)") }
        #expect(throws: OlmError.chainGapTooLarge) { try pair.aliceSession.decrypt(last) }
    }

    @Test func truncatedAndMalformedMessagesThrow() throws {
        var pair = try OlmPair()
        let normal = Array(try #require(Base64Unpadded.decode(try pair.bobSession.encrypt("normal").body)))
        let preKey = Array(try #require(Base64Unpadded.decode(try pair.aliceSession.encrypt("pre-key").body)))
        for length in 0..<normal.count {
            #expect(throws: OlmError.self) { try pair.aliceSession.decrypt(OlmMessage(type: 1, body: Base64Unpadded.encode(normal.prefix(length)))) }
        }
        for length in 0..<preKey.count {
            #expect(throws: OlmError.self) { try pair.bobSession.decrypt(OlmMessage(type: 0, body: Base64Unpadded.encode(preKey.prefix(length)))) }
        }
        #expect(throws: OlmError.badMessageVersion) {
            try pair.aliceSession.decrypt(OlmMessage(type: 1, body: Base64Unpadded.encode([2] + normal.dropFirst())))
        }
        #expect(throws: OlmError.badMessageType) { try pair.aliceSession.decrypt(OlmMessage(type: 2, body: Base64Unpadded.encode(normal))) }
        #expect(throws: OlmError.badBase64) { try pair.aliceSession.decrypt(OlmMessage(type: 1, body: "*")) }
        // A length prefix that claims more than the message holds, and a varint that never ends.
        #expect(throws: OlmError.badMessageFormat) {
            try pair.aliceSession.decrypt(OlmMessage(type: 1, body: Base64Unpadded.encode([3, 0x0A, 0xFF, 0x01] + [UInt8](repeating: 0, count: 8))))
        }
        #expect(throws: OlmError.badMessageFormat) {
            try pair.aliceSession.decrypt(OlmMessage(type: 1, body: Base64Unpadded.encode([3, 0x10] + [UInt8](repeating: 0xFF, count: 20))))
        }
        #expect(try pair.aliceSession.decrypt(OlmMessage(type: 1, body: Base64Unpadded.encode(normal))) == "normal")
    }

    @Test func badKeysAreRejected() {
        let account = OlmAccount()
        #expect(throws: OlmError.badKey) { try account.createOutboundSession(theirIdentityKey: "short", theirOneTimeKey: account.curve25519Key) }
        #expect(throws: OlmError.badKey) { try account.createOutboundSession(theirIdentityKey: account.curve25519Key, theirOneTimeKey: "AAAA") }
    }

    @Test func picklesRoundTrip() throws {
        var pair = try OlmPair()
        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        var alice = try decoder.decode(OlmSession.self, from: try encoder.encode(pair.aliceSession))
        let account = try decoder.decode(OlmAccount.self, from: try encoder.encode(pair.bob))
        #expect(account.curve25519Key == pair.bob.curve25519Key)
        #expect(account.ed25519Key == pair.bob.ed25519Key)
        #expect(try alice.decrypt(try pair.bobSession.encrypt("after pickling")) == "after pickling")
        #expect(alice.sessionID == pair.aliceSession.sessionID)
    }
}

/// The account's keys and signatures.
@Suite struct OlmAccountTests {
    @Test func oneTimeKeyIDsAreLibolmsCounter() {
        var account = OlmAccount()
        account.generateOneTimeKeys(count: 2)
        #expect(Set(account.unpublishedOneTimeKeys.keys) == ["AAAAAQ", "AAAAAg"])
        account.markKeysAsPublished()
        #expect(account.unpublishedOneTimeKeys.isEmpty)
        #expect(account.oneTimeKeyCount == 2)
        account.generateOneTimeKeys(count: 1)
        #expect(Array(account.unpublishedOneTimeKeys.keys) == ["AAAAAw"])
    }

    @Test func generatingBeyondTheMaximumDropsTheOldest() {
        var account = OlmAccount()
        account.generateOneTimeKeys(count: OlmAccount.maxOneTimeKeys + 5)
        #expect(account.oneTimeKeyCount == 100)
        let ids = account.unpublishedOneTimeKeys.keys
        #expect(!ids.contains("AAAAAQ"))
        #expect(!ids.contains("AAAABQ"))
        #expect(ids.contains("AAAABg"))
        #expect(ids.contains("AAAAaQ"))  // 105
    }

    @Test func signaturesVerifyWithTheAccountsKey() {
        let account = OlmAccount()
        let signature = account.sign("{\"a\":1}")
        #expect(SignedJSON.verify(signature: signature, publicKey: account.ed25519Key, message: "{\"a\":1}"))
        #expect(!SignedJSON.verify(signature: signature, publicKey: account.ed25519Key, message: "{\"a\":2}"))
        #expect(!SignedJSON.verify(signature: signature, publicKey: account.curve25519Key + "x", message: "{\"a\":1}"))
    }

    @Test func identityKeysAreDistinctAndWellFormed() {
        let account = OlmAccount()
        #expect(Base64Unpadded.decode(account.curve25519Key)?.count == 32)
        #expect(Base64Unpadded.decode(account.ed25519Key)?.count == 32)
        #expect(!account.curve25519Key.hasSuffix("="))
        #expect(OlmAccount().curve25519Key != account.curve25519Key)
    }
}

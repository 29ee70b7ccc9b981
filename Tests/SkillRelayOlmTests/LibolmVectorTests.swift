import Foundation
import Testing

@testable import SkillRelayOlm

/// Reading what libolm wrote: the constants in LibolmVectors.swift come from make_vectors.py (libolm 3.2.16 via python-olm).
@Suite struct LibolmVectorTests {
    static func bob() throws -> OlmAccount {
        try OlmAccount(
            curve25519Private: [UInt8](hex: LibolmVectors.bobCurve25519Private), ed25519Private: [UInt8](hex: LibolmVectors.bobEd25519Private),
            oneTimePrivate: [[UInt8](hex: LibolmVectors.bobOneTimePrivate)])
    }

    @Test func fixedAccountHasThePublicKeysLibolmEncryptedTo() throws {
        let bob = try Self.bob()
        #expect(bob.curve25519Key == LibolmVectors.bobCurve25519Key)
        #expect(bob.unpublishedOneTimeKeys == ["AAAAAQ": LibolmVectors.bobOneTimeKey])
    }

    @Test func oneTimeKeyIDsMatchLibolms() {
        var account = OlmAccount()
        account.generateOneTimeKeys(count: LibolmVectors.libolmOneTimeKeyIDs.count)
        #expect(account.unpublishedOneTimeKeys.keys.sorted() == LibolmVectors.libolmOneTimeKeyIDs)
    }

    @Test func preKeyMessagesFromLibolmDecrypt() throws {
        var bob = try Self.bob()
        let messages = LibolmVectors.olmMessages
        let first = try #require(messages.first)
        var (session, plaintext) = try bob.createInboundSession(
            theirIdentityKey: LibolmVectors.aliceCurve25519Key, preKeyMessage: first.body)
        #expect(plaintext == first.plaintext)
        #expect(session.sessionID == LibolmVectors.olmSessionID)
        #expect(bob.oneTimeKeyCount == 0)
        for message in messages.dropFirst() {
            #expect(session.matches(preKeyMessage: message.body, theirIdentityKey: LibolmVectors.aliceCurve25519Key))
            #expect(try session.decrypt(OlmMessage(type: message.type, body: message.body)) == message.plaintext)
        }
        #expect(try session.encrypt("reply").type == 1)
    }

    /// A full ratchet step: our reply equals the bytes libolm decrypted, and libolm's answers on its new chain decrypt.
    @Test func replyAndNewChainInteroperateWithLibolm() throws {
        var bob = try Self.bob()
        var session = try bob.createInboundSession(
            theirIdentityKey: LibolmVectors.aliceCurve25519Key, preKeyMessage: LibolmVectors.olmMessages[0].body
        ).session
        let reply = try session.encrypt(LibolmVectors.bobReply.plaintext, newRatchetPrivateKey: [UInt8](hex: LibolmVectors.bobRatchetPrivate))
        #expect(reply == OlmMessage(type: 1, body: LibolmVectors.bobReply.body))
        for message in LibolmVectors.olmMessagesAfterReply.reversed() {
            #expect(message.type == 1)
            #expect(try session.decrypt(OlmMessage(type: message.type, body: message.body)) == message.plaintext)
        }
        // A late pre-key message from before the ratchet step still decrypts with its skipped key.
        let late = LibolmVectors.olmMessages[1]
        #expect(try session.decrypt(OlmMessage(type: late.type, body: late.body)) == late.plaintext)
    }

    @Test func megolmMessagesFromLibolmDecrypt() throws {
        let inbound = try MegolmInboundSession(sessionKey: LibolmVectors.megolmSessionKey)
        #expect(inbound.sessionID == LibolmVectors.megolmSessionID)
        #expect(inbound.firstKnownIndex == 0)
        for message in LibolmVectors.megolmMessages {
            #expect(try inbound.decrypt(message.ciphertext) == (message.plaintext, message.index))
        }
    }

    @Test func megolmSessionKeyAtALaterIndexFromLibolm() throws {
        let inbound = try MegolmInboundSession(sessionKey: LibolmVectors.megolmSessionKeyAt70001)
        #expect(inbound.firstKnownIndex == 70001)
        #expect(inbound.sessionID == LibolmVectors.megolmSessionID)
        let atZero = try MegolmInboundSession(sessionKey: LibolmVectors.megolmSessionKey)
        #expect(try inbound.export(at: 70001) == (try atZero.export(at: 70001)))
        let message = try #require(LibolmVectors.megolmMessages.last)
        #expect(throws: OlmError.unknownMessageIndex) { try inbound.decrypt(message.ciphertext) }
    }

    /// libolm's exports at indices that turn each of R0…R3: our advance(to:) must give the same bytes.
    @Test func megolmExportsMatchLibolmByteForByte() throws {
        let inbound = try MegolmInboundSession(sessionKey: LibolmVectors.megolmSessionKey)
        for (index, export) in LibolmVectors.megolmExports {
            #expect(try inbound.export(at: index) == export, "at \(index)")
            let imported = try MegolmInboundSession(exportedKey: export)
            #expect(imported.firstKnownIndex == index)
            #expect(imported.sessionID == LibolmVectors.megolmSessionID)
        }
        let forwarded = try MegolmInboundSession(exportedKey: try #require(LibolmVectors.megolmExports.first { $0.index == 1 }).export)
        for message in LibolmVectors.megolmMessages.dropFirst() {
            #expect(try forwarded.decrypt(message.ciphertext) == (message.plaintext, message.index))
        }
    }
}

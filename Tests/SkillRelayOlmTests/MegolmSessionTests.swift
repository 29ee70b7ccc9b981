import Foundation
import Testing

@testable import SkillRelayOlm

/// Megolm between Swift outbound and inbound sessions.
@Suite struct MegolmSessionTests {
    @Test func inboundFromIndexZeroDecryptsEveryMessage() throws {
        var outbound = MegolmOutboundSession()
        let inbound = try MegolmInboundSession(sessionKey: outbound.sessionKey)
        #expect(inbound.sessionID == outbound.sessionID)
        #expect(inbound.firstKnownIndex == 0)
        let messages = try (0..<3).map { try outbound.encrypt("room message \($0)") }
        #expect(outbound.messageIndex == 3)
        for index in [2, 0, 1, 2] {
            let (plaintext, messageIndex) = try inbound.decrypt(messages[index])
            #expect(plaintext == "room message \(index)")
            #expect(messageIndex == UInt32(index))
        }
    }

    @Test func inboundFromALaterIndexCannotReadEarlierMessages() throws {
        var outbound = MegolmOutboundSession()
        let early = try outbound.encrypt("before you joined")
        _ = try outbound.encrypt("also before")
        let inbound = try MegolmInboundSession(sessionKey: outbound.sessionKey)
        #expect(inbound.firstKnownIndex == 2)
        let later = try outbound.encrypt("after you joined")
        #expect(try inbound.decrypt(later) == ("after you joined", 2))
        #expect(throws: OlmError.unknownMessageIndex) { try inbound.decrypt(early) }
        #expect(throws: OlmError.unknownMessageIndex) { try inbound.export(at: 1) }
    }

    @Test func forwardedExportDecryptsFromItsIndexOn() throws {
        var outbound = MegolmOutboundSession()
        let inbound = try MegolmInboundSession(sessionKey: outbound.sessionKey)
        let messages = try (0..<3).map { try outbound.encrypt("m\($0)") }
        let forwarded = try MegolmInboundSession(exportedKey: try inbound.export(at: 1))
        #expect(forwarded.sessionID == outbound.sessionID)
        #expect(forwarded.firstKnownIndex == 1)
        #expect(try forwarded.decrypt(messages[2]) == ("m2", 2))
        #expect(try forwarded.decrypt(messages[1]) == ("m1", 1))
        #expect(throws: OlmError.unknownMessageIndex) { try forwarded.decrypt(messages[0]) }
        // An export is not a session key and the other way round.
        #expect(throws: OlmError.badSessionKey) { try MegolmInboundSession(sessionKey: try inbound.export(at: 0)) }
        #expect(throws: OlmError.badSessionKey) { try MegolmInboundSession(exportedKey: outbound.sessionKey) }
    }

    @Test func tamperedSignatureMACOrSessionKeyIsRejected() throws {
        var outbound = MegolmOutboundSession()
        let inbound = try MegolmInboundSession(sessionKey: outbound.sessionKey)
        let message = try outbound.encrypt("signed")
        #expect(throws: OlmError.badSignature) { try inbound.decrypt(flippingByte(in: message, fromEnd: 0)) }
        #expect(throws: OlmError.badSignature) { try inbound.decrypt(flippingByte(in: message, fromEnd: 64)) }
        #expect(throws: OlmError.badSignature) { try MegolmInboundSession(sessionKey: flippingByte(in: outbound.sessionKey, fromEnd: 100)) }
        // Another session's signing key: the signature cannot match.
        let other = try MegolmInboundSession(sessionKey: MegolmOutboundSession().sessionKey)
        #expect(throws: OlmError.badSignature) { try other.decrypt(message) }
        #expect(try inbound.decrypt(message).plaintext == "signed")
    }

    @Test func badMACWithAValidSignatureIsRejected() throws {
        // A message signed by the session's key but encrypted with another ratchet: only the MAC can catch it.
        let seed = [UInt8](repeating: 7, count: 32)
        var real = try MegolmOutboundSession(ratchetData: [UInt8](repeating: 1, count: 128), counter: 0, signingSeed: seed)
        var forged = try MegolmOutboundSession(ratchetData: [UInt8](repeating: 2, count: 128), counter: 0, signingSeed: seed)
        let inbound = try MegolmInboundSession(sessionKey: real.sessionKey)
        #expect(throws: OlmError.badMAC) { try inbound.decrypt(try forged.encrypt("forged")) }
        #expect(try inbound.decrypt(try real.encrypt("real")).plaintext == "real")
    }

    @Test func truncatedMessagesAndKeysThrow() throws {
        var outbound = MegolmOutboundSession()
        let inbound = try MegolmInboundSession(sessionKey: outbound.sessionKey)
        let message = Array(try #require(Base64Unpadded.decode(try outbound.encrypt("whole"))))
        for length in 0..<message.count {
            #expect(throws: OlmError.self) { try inbound.decrypt(Base64Unpadded.encode(message.prefix(length))) }
        }
        let key = Array(try #require(Base64Unpadded.decode(outbound.sessionKey)))
        for length in [0, 1, 5, 100, key.count - 1] {
            #expect(throws: OlmError.self) { try MegolmInboundSession(sessionKey: Base64Unpadded.encode(key.prefix(length))) }
        }
        #expect(throws: OlmError.badSessionKey) { try MegolmInboundSession(sessionKey: Base64Unpadded.encode(key + [0])) }
        #expect(throws: OlmError.badBase64) { try MegolmInboundSession(sessionKey: "@@@") }
    }

    @Test func jumpingAheadMatchesSteppingOneByOne() {
        let start = (0..<128).map { UInt8($0) }
        var stepped = MegolmRatchet(data: start, counter: 0)
        var checkpoints: [UInt32: Data] = [:]
        for _ in 0..<66_000 {
            stepped.advance()
            if [1, 255, 256, 257, 511, 65_535, 65_536, 66_000].contains(stepped.counter) { checkpoints[stepped.counter] = stepped.data }
        }
        for (counter, data) in checkpoints {
            var jumped = MegolmRatchet(data: start, counter: 0)
            jumped.advance(to: counter)
            #expect(jumped.counter == counter)
            #expect(jumped.data == data, "at \(counter)")
        }
        var twoJumps = MegolmRatchet(data: start, counter: 0)
        twoJumps.advance(to: 300)
        twoJumps.advance(to: 65_536)
        #expect(twoJumps.data == checkpoints[65_536])
    }

    @Test func corruptedPicklesFailToDecode() throws {
        let pickle = try JSONEncoder().encode(MegolmInboundSession(sessionKey: MegolmOutboundSession().sessionKey))
        var object = try #require(try JSONSerialization.jsonObject(with: pickle) as? [String: Any])
        object["signingKey"] = "AAAA"
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(MegolmInboundSession.self, from: try JSONSerialization.data(withJSONObject: object))
        }
    }

    @Test func picklesRoundTrip() throws {
        var outbound = MegolmOutboundSession()
        _ = try outbound.encrypt("one")
        var restored = try JSONDecoder().decode(MegolmOutboundSession.self, from: try JSONEncoder().encode(outbound))
        let inbound = try JSONDecoder().decode(
            MegolmInboundSession.self, from: try JSONEncoder().encode(try MegolmInboundSession(sessionKey: outbound.sessionKey)))
        #expect(restored.messageIndex == 1)
        #expect(try inbound.decrypt(try restored.encrypt("two")) == ("two", 1))
    }
}

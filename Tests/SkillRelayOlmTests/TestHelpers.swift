import Foundation
import Testing

@testable import SkillRelayOlm

extension [UInt8] {
    /// Bytes from hex text, for fixed test keys.
    init(hex: String) {
        var bytes: [UInt8] = []
        var high: Character?
        for character in hex {
            if let first = high {
                bytes.append(UInt8(String([first, character]), radix: 16)!)
                high = nil
            } else {
                high = character
            }
        }
        self = bytes
    }
}

/// `text` (base64) with the byte at `offset` from the end flipped.
func flippingByte(in text: String, fromEnd offset: Int) -> String {
    var bytes = Array(Base64Unpadded.decode(text)!)
    bytes[bytes.count - 1 - offset] ^= 0x01
    return Base64Unpadded.encode(bytes)
}

/// A JSON text decoded as a JSONValue.
func json(_ text: String) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
}

/// Alice and Bob with an established session each way: Alice's first message has reached Bob.
struct OlmPair {
    var alice = OlmAccount()
    var bob = OlmAccount()
    var aliceSession: OlmSession
    var bobSession: OlmSession

    init() throws {
        bob.generateOneTimeKeys(count: 1)
        let oneTimeKey = try #require(bob.unpublishedOneTimeKeys.values.first)
        aliceSession = try alice.createOutboundSession(theirIdentityKey: bob.curve25519Key, theirOneTimeKey: oneTimeKey)
        let first = try aliceSession.encrypt("hello Bob")
        bobSession = try bob.createInboundSession(theirIdentityKey: alice.curve25519Key, preKeyMessage: first.body).session
    }
}

import Crypto
import Foundation

/// The Olm double ratchet (libolm's ratchet.cpp): a root key, one sender chain, recent receiver chains and skipped message keys.
struct OlmRatchet: Codable, Sendable {
    static let maxReceiverChains = 5
    static let maxSkippedMessageKeys = 40
    static let maxMessageGap: UInt32 = 2000

    /// A chain key and its position in the chain.
    struct ChainKey: Codable, Sendable {
        var key: Data
        var index: UInt32

        var messageKey: [UInt8] { OlmCrypto.hmac(key: key, [0x01]) }
        var next: ChainKey { ChainKey(key: Data(OlmCrypto.hmac(key: key, [0x02])), index: index &+ 1) }
    }

    struct SenderChain: Codable, Sendable {
        var ratchetPrivateKey: Data
        var ratchetPublicKey: Data
        var chainKey: ChainKey
    }

    struct ReceiverChain: Codable, Sendable {
        var ratchetKey: Data
        var chainKey: ChainKey
    }

    struct SkippedMessageKey: Codable, Sendable {
        var ratchetKey: Data
        var index: UInt32
        var messageKey: Data
    }

    var rootKey: Data
    var senderChain: SenderChain?
    /// Newest first.
    var receiverChains: [ReceiverChain]
    /// Newest first.
    var skippedMessageKeys: [SkippedMessageKey]

    private static func rootAndChain(_ derived: [UInt8]) -> (root: Data, chain: ChainKey) {
        (Data(derived[0..<32]), ChainKey(key: Data(derived[32..<64]), index: 0))
    }

    /// Alice's side: her first sender chain uses the derived chain key with her fresh ratchet key directly.
    init(aliceSharedSecret secret: [UInt8], ratchetKey: Curve25519.KeyAgreement.PrivateKey) {
        let (root, chain) = Self.rootAndChain(OlmCrypto.hkdf(secret, salt: [], info: "OLM_ROOT", count: 64))
        rootKey = root
        senderChain = SenderChain(
            ratchetPrivateKey: ratchetKey.rawRepresentation, ratchetPublicKey: ratchetKey.publicKey.rawRepresentation, chainKey: chain)
        receiverChains = []
        skippedMessageKeys = []
    }

    /// Bob's side: a receiver chain for Alice's ratchet key.
    init(bobSharedSecret secret: [UInt8], theirRatchetKey: [UInt8]) {
        let (root, chain) = Self.rootAndChain(OlmCrypto.hkdf(secret, salt: [], info: "OLM_ROOT", count: 64))
        rootKey = root
        senderChain = nil
        receiverChains = [ReceiverChain(ratchetKey: Data(theirRatchetKey), chainKey: chain)]
        skippedMessageKeys = []
    }

    private static func advanceRoot(_ rootKey: Data, ourKey: Data, theirKey: [UInt8]) throws(OlmError) -> (root: Data, chain: ChainKey) {
        let secret = try OlmCrypto.sharedSecret(ourKey, theirKey)
        return rootAndChain(OlmCrypto.hkdf(secret, salt: Array(rootKey), info: "OLM_RATCHET", count: 64))
    }

    /// Encrypts into an encoded ratchet message, starting a new sender chain if the last message came from the other side.
    /// `newRatchetKey` is the key such a new chain uses: fresh and random, except in tests.
    mutating func encrypt(
        _ plaintext: [UInt8], newRatchetKey: @autoclosure () -> Curve25519.KeyAgreement.PrivateKey = .init()
    ) throws(OlmError) -> [UInt8] {
        var sender: SenderChain
        if let existing = senderChain {
            sender = existing
        } else {
            guard let theirs = receiverChains.first else { throw .badMessageFormat }
            let ratchetKey = newRatchetKey()
            let (root, chain) = try Self.advanceRoot(rootKey, ourKey: ratchetKey.rawRepresentation, theirKey: Array(theirs.ratchetKey))
            rootKey = root
            sender = SenderChain(
                ratchetPrivateKey: ratchetKey.rawRepresentation, ratchetPublicKey: ratchetKey.publicKey.rawRepresentation, chainKey: chain)
        }
        let messageKey = sender.chainKey.messageKey
        let ciphertext = AESSHA256Cipher.olm.encrypt(plaintext, messageKey: messageKey)
        var message = OlmRatchetMessage.encode(
            ratchetKey: Array(sender.ratchetPublicKey), chainIndex: sender.chainKey.index, ciphertext: ciphertext)
        message += AESSHA256Cipher.olm.mac(message, messageKey: messageKey)
        sender.chainKey = sender.chainKey.next
        senderChain = sender
        return message
    }

    /// Decrypts an encoded ratchet message; throws with the ratchet unchanged.
    mutating func decrypt(_ bytes: [UInt8]) throws(OlmError) -> [UInt8] {
        let message = try OlmRatchetMessage(decoding: bytes)
        let theirKey = Data(message.ratchetKey)
        if let position = receiverChains.firstIndex(where: { $0.ratchetKey == theirKey }) {
            let chain = receiverChains[position]
            if message.chainIndex < chain.chainKey.index {
                guard
                    let skipped = skippedMessageKeys.firstIndex(where: { $0.ratchetKey == theirKey && $0.index == message.chainIndex })
                else { throw .unknownMessageKey }
                let plaintext = try Self.open(message, messageKey: Array(skippedMessageKeys[skipped].messageKey))
                skippedMessageKeys.remove(at: skipped)
                return plaintext
            }
            let (plaintext, next) = try open(message, chain: chain.chainKey, ratchetKey: theirKey)
            receiverChains[position].chainKey = next
            return plaintext
        }
        // A new chain: they have seen a message from us, so we have a sender chain to ratchet from.
        guard let sender = senderChain else { throw .badMAC }
        let (root, chain) = try Self.advanceRoot(rootKey, ourKey: sender.ratchetPrivateKey, theirKey: message.ratchetKey)
        let (plaintext, next) = try open(message, chain: chain, ratchetKey: theirKey)
        rootKey = root
        receiverChains.insert(ReceiverChain(ratchetKey: theirKey, chainKey: next), at: 0)
        if receiverChains.count > Self.maxReceiverChains { receiverChains.removeLast() }
        senderChain = nil
        return plaintext
    }

    /// Decrypts a message at or after `chain`'s index, keeping the keys it skips; returns the chain key after the message.
    private mutating func open(_ message: OlmRatchetMessage, chain: ChainKey, ratchetKey: Data) throws(OlmError) -> ([UInt8], ChainKey) {
        guard message.chainIndex - chain.index <= Self.maxMessageGap else { throw .chainGapTooLarge }
        var skipped: [SkippedMessageKey] = []
        var current = chain
        while current.index < message.chainIndex {
            // Only the newest keys would survive the cap below.
            if message.chainIndex - current.index <= Self.maxSkippedMessageKeys {
                skipped.append(SkippedMessageKey(ratchetKey: ratchetKey, index: current.index, messageKey: Data(current.messageKey)))
            }
            current = current.next
        }
        let plaintext = try Self.open(message, messageKey: current.messageKey)
        skippedMessageKeys.insert(contentsOf: skipped.reversed(), at: 0)
        if skippedMessageKeys.count > Self.maxSkippedMessageKeys {
            skippedMessageKeys.removeLast(skippedMessageKeys.count - Self.maxSkippedMessageKeys)
        }
        return (plaintext, current.next)
    }

    private static func open(_ message: OlmRatchetMessage, messageKey: [UInt8]) throws(OlmError) -> [UInt8] {
        try AESSHA256Cipher.olm.decrypt(message.ciphertext, authenticated: message.authenticated, mac: message.mac, messageKey: messageKey)
    }
}

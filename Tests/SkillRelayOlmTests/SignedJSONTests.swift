import Foundation
import Testing

@testable import SkillRelayOlm

/// Canonical JSON and signatures, against the Matrix spec's appendix and RFC 8032.
@Suite struct SignedJSONTests {
    /// The examples of the Matrix spec, appendices, "Canonical JSON".
    @Test(arguments: [
        ("{}", "{}"),
        (#"{"one": 1, "two": "Two"}"#, #"{"one":1,"two":"Two"}"#),
        (#"{"b": "2", "a": "1"}"#, #"{"a":"1","b":"2"}"#),
        (#"{"b":"2","a":"1"}"#, #"{"a":"1","b":"2"}"#),
        (
            #"""
            {
                "auth": {
                    "success": true,
                    "mxid": "@john.doe:example.com",
                    "profile": {
                        "display_name": "John Doe",
                        "three_pids": [
                            {"medium": "email", "address": "john.doe@example.org"},
                            {"medium": "msisdn", "address": "123456789"}
                        ]
                    }
                }
            }
            """#,
            #"{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}"#
        ),
        (#"{"a": "日本語"}"#, #"{"a":"日本語"}"#),
        (#"{"本": 2, "日": 1}"#, #"{"日":1,"本":2}"#),
        (#"{"a": "\u65E5"}"#, #"{"a":"日"}"#),
        (#"{"a": null}"#, #"{"a":null}"#),
        (#"{"a": -0, "b": 1e10}"#, #"{"a":0,"b":10000000000}"#),
    ])
    func canonicalJSONMatchesTheSpecExamples(input: String, expected: String) throws {
        #expect(try json(input).canonical == expected)
    }

    @Test func onlyRequiredCharactersAreEscaped() {
        let value = JSONValue.string("quote \" backslash \\ newline \n tab \t bell \u{07} slash / delete \u{7F} é")
        #expect(value.canonical == #""quote \" backslash \\ newline \n tab \t bell \u0007 slash / delete \#u{7F} é""#)
    }

    @Test func keysSortByCodePointNotByCase() {
        let value = JSONValue.object(["b": .integer(1), "B": .integer(2), "a": .bool(false), "é": .array([]), "z": .null])
        #expect(value.canonical == #"{"B":2,"a":false,"b":1,"z":null,"é":[]}"#)
    }

    @Test func signingInputDropsSignaturesAndUnsigned() throws {
        let object = try #require(
            try json(#"{"b": 1, "signatures": {"@a:b": {"ed25519:X": "sig"}}, "unsigned": {"age": 5}, "a": {"unsigned": 1}}"#).objectValue)
        #expect(SignedJSON.signingInput(object) == #"{"a":{"unsigned":1},"b":1}"#)
    }

    /// The Matrix spec's "Signing JSON" example: the key with seed YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1 signs `{}`.
    @Test func accountSignatureMatchesTheSpecExample() throws {
        let seed = Array(try #require(Base64Unpadded.decode("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1")))
        let account = try OlmAccount(curve25519Private: seed, ed25519Private: seed)
        let signature = account.sign(SignedJSON.signingInput([:]))
        #expect(signature == "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ")
        #expect(SignedJSON.verify(signature: signature, publicKey: account.ed25519Key, message: "{}"))
        let two = account.sign(SignedJSON.signingInput(["one": .integer(1), "two": .string("Two")]))
        #expect(two == "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw")
    }

    /// RFC 8032 section 7.1, tests 1 (empty message) and 2 (the byte 0x72, "r").
    @Test(arguments: [
        (
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        ),
        (
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "r",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        ),
    ])
    func rfc8032VectorsVerify(publicKey: String, message: String, signature: String) {
        let key = Base64Unpadded.encode([UInt8](hex: publicKey))
        let signatureText = Base64Unpadded.encode([UInt8](hex: signature))
        #expect(SignedJSON.verify(signature: signatureText, publicKey: key, message: message))
        #expect(!SignedJSON.verify(signature: signatureText, publicKey: key, message: message + " "))
        #expect(!SignedJSON.verify(signature: flippingByte(in: signatureText, fromEnd: 3), publicKey: key, message: message))
    }

    @Test func base64IsUnpaddedAndAcceptsPadding() {
        #expect(Base64Unpadded.encode([UInt8]("a".utf8)) == "YQ")
        #expect(Base64Unpadded.encode([UInt8]("ab".utf8)) == "YWI")
        #expect(Base64Unpadded.encode([UInt8]("abc".utf8)) == "YWJj")
        #expect(Base64Unpadded.decode("YQ") == Data("a".utf8))
        #expect(Base64Unpadded.decode("YQ==") == Data("a".utf8))
        #expect(Base64Unpadded.decode("YWI") == Data("ab".utf8))
        #expect(Base64Unpadded.decode("Y") == nil)
        #expect(Base64Unpadded.decode("YQ=") == nil)
        #expect(Base64Unpadded.decode("Y Q") == nil)
    }

    @Test func jsonValuesRoundTripThroughCodable() throws {
        let value = try json(#"{"a":[1,2.5,"x",true,null,{"b":-3}]}"#)
        #expect(value["a"]?.arrayValue?.count == 6)
        #expect(value["a"]?.arrayValue?[5]["b"]?.integerValue == -3)
        let again = try JSONDecoder().decode(JSONValue.self, from: try JSONEncoder().encode(value))
        #expect(again == value)
    }
}

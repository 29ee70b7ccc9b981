/// An encrypted Olm message as it travels in an `m.room.encrypted` to-device event.
public struct OlmMessage: Sendable, Equatable, Codable {
    /// 0 for a pre-key message, 1 for a normal one.
    public var type: Int
    /// The message, base64 unpadded.
    public var body: String

    public init(type: Int, body: String) {
        self.type = type
        self.body = body
    }
}

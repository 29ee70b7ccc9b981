// Matrix client-server API payloads, named as the specification names their fields.
// swift-format-ignore-file

import Foundation
import SkillRelayOlm

/// `GET /presence/{userId}/status`.
public struct PresenceStatus: Codable, Sendable, Equatable {
    public var presence: String
    public var currently_active: Bool?
    public var last_active_ago: Int?
}

struct WhoAmI: Decodable {
    var user_id: String
    var device_id: String?
}

struct CreateRoom: Encodable {
    var is_direct: Bool
    var invite: [String]
    var preset: String
    var initial_state: [InitialState]?
    var name: String?
    var topic: String?

    struct InitialState: Encodable {
        var type: String
        var state_key: String
        var content: Encryption
    }

    struct Encryption: Encodable {
        var algorithm: String
    }
}

/// `GET /rooms/{roomId}/members`.
struct MemberList: Decodable {
    var chunk: [RoomEvent]
}

/// `POST /keys/upload`'s answer.
struct KeyCounts: Decodable {
    var one_time_key_counts: [String: Int]?
}

struct RoomID: Decodable {
    var room_id: String
}

struct EventID: Decodable {
    var event_id: String
}

struct FilterID: Decodable {
    var filter_id: String
}

/// An answer whose body SkillRelay does not read (`{}`).
struct NoContent: Decodable {}

/// The content of an `m.room.member` state event.
struct MemberContent: Decodable {
    var membership: String
}

/// An `m.room.message` of type `m.text`, with an HTML rendering.
public struct TextMessage: Codable, Sendable, Equatable {
    public var msgtype = "m.text"
    public var body: String
    public var format: String?
    public var formatted_body: String?
    /// What it replies to, if anything (`m.relates_to` with `m.in_reply_to`).
    public var relatesTo: RelatesTo?

    enum CodingKeys: String, CodingKey {
        case msgtype, body, format, formatted_body
        case relatesTo = "m.relates_to"
    }

    /// `m.relates_to` of a reply.
    public struct RelatesTo: Codable, Sendable, Equatable {
        public var inReplyTo: InReplyTo

        public init(inReplyTo: InReplyTo) { self.inReplyTo = inReplyTo }

        enum CodingKeys: String, CodingKey { case inReplyTo = "m.in_reply_to" }
    }

    /// The event a reply replies to.
    public struct InReplyTo: Codable, Sendable, Equatable {
        public var event_id: String

        public init(event_id: String) { self.event_id = event_id }
    }

    /// A message from plain text; the HTML version escapes it and keeps its line breaks.
    public init(_ text: String) {
        body = text
        format = "org.matrix.custom.html"
        formatted_body = Self.html(text)
    }

    /// The text as HTML: `&`, `<`, `>` and `"` escaped, line breaks as `<br>`. One pass over the text (five
    /// `replacingOccurrences` took a few percent of the ask path's CPU under load).
    static func html(_ text: String) -> String {
        var html = String()
        html.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": html += "&amp;"
            case "<": html += "&lt;"
            case ">": html += "&gt;"
            case "\"": html += "&quot;"
            case "\n": html += "<br>"
            default: html.unicodeScalars.append(scalar)
            }
        }
        return html
    }
}

/// A `/sync` filter: messages and membership changes in rooms (the bot's own leaving included), and presence, nothing
/// else.
public struct SyncFilter: Encodable, Sendable {
    struct EventFilter: Encodable {
        var types: [String]?
        var limit: Int?
        var not_types: [String]?
    }

    struct RoomFilter: Encodable {
        // Membership in the timeline too: who joined the bot's room, left it or declined it, in order with the messages.
        // Encrypted messages, and whether a room is encrypted (from its first event on).
        var timeline = EventFilter(types: ["m.room.message", "m.room.member", "m.room.encrypted", "m.room.encryption"], limit: 50)
        var state = EventFilter(types: ["m.room.member", "m.room.encryption"], limit: nil)
        // Read receipts: someone who reads their room with the bot is at their desk (`lastActiveAt`).
        var ephemeral = EventFilter(types: ["m.receipt"], limit: nil)
        var account_data = EventFilter(types: [], limit: nil)
        // Rooms the bot is no longer in (removed from one): that person's room is gone.
        var include_leave = true
    }

    var room = RoomFilter()
    // Everyone's presence changes, as they happen: what the presence source reads instead of asking per person.
    var presence = EventFilter(types: ["m.presence"], limit: nil)
    var account_data = EventFilter(types: [], limit: nil)

    public init() {}

    /// An inline filter for presence alone: no rooms, no account data.
    static let presenceOnly = #"{"room":{"rooms":[]},"presence":{"types":["m.presence"]},"account_data":{"types":[]}}"#
}

/// The parts of a `/sync` answer SkillRelay reads.
public struct SyncResponse: Decodable, Sendable {
    public var next_batch: String
    public var rooms: Rooms?
    public var presence: PresenceEvents?
    /// Messages to the bot's device (Olm-encrypted room keys, key requests).
    public var to_device: EventList<ToDeviceEvent>?
    /// Users whose devices changed (their keys must be asked for again) or who no longer share a room with the bot.
    public var device_lists: DeviceLists?
    /// How many one-time keys the homeserver still holds for the bot's device, by algorithm.
    public var device_one_time_keys_count: [String: Int]?

    public struct ToDeviceEvent: Decodable, Sendable {
        public var type: String
        public var sender: String
        public var content: JSONValue
    }

    public struct DeviceLists: Decodable, Sendable {
        public var changed: [String]?
        public var left: [String]?
    }

    /// `m.presence` events of people who share a room with the bot, oldest first.
    public typealias PresenceEvents = EventList<PresenceEvent>

    public struct PresenceEvent: Decodable, Sendable {
        public var type: String
        public var sender: String
        public var content: PresenceStatus
    }

    public struct Rooms: Decodable, Sendable {
        public var join: [String: JoinedRoom]?
        public var invite: [String: InvitedRoom]?
        public var leave: [String: LeftRoom]?
    }

    public struct JoinedRoom: Decodable, Sendable {
        /// State before the timeline, when the timeline does not reach back to the last sync.
        public var state: Timeline?
        public var timeline: Timeline?
        /// Read receipts (`m.receipt`).
        public var ephemeral: EventList<EphemeralEvent>?
    }

    /// An event that is not part of a room's history, such as `m.receipt`: `{"$event": {"m.read": {"@user": {"ts": …}}}}`.
    public struct EphemeralEvent: Decodable, Sendable {
        public var type: String
        public var content: JSONValue

        /// Who read up to some event, and when (milliseconds since 1970, where the receipt says).
        public var readers: [(userID: String, ts: Int64?)] {
            guard type == "m.receipt", let events = content.objectValue else { return [] }
            var found: [(userID: String, ts: Int64?)] = []
            for receipts in events.values {
                for (kind, users) in receipts.objectValue ?? [:] where kind.hasPrefix("m.read") {
                    for (user, receipt) in users.objectValue ?? [:] { found.append((user, receipt["ts"]?.integerValue)) }
                }
            }
            return found
        }
    }

    /// A room the bot left or was removed from; what is in it is not read.
    public struct LeftRoom: Decodable, Sendable {}

    public typealias Timeline = EventList<RoomEvent>

    /// `{"events": [...]}`, where one malformed event (from some other client) is skipped rather than failing the
    /// whole sync.
    public struct EventList<Event: Decodable & Sendable>: Decodable, Sendable {
        public var events: [Event]?

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            events = try container.decodeIfPresent([Skippable<Event>].self, forKey: .events)?.compactMap(\.value)
        }

        enum CodingKeys: String, CodingKey { case events }
    }

    /// One element of a list, `nil` when it does not decode.
    struct Skippable<Value: Decodable>: Decodable {
        var value: Value?
        init(from decoder: any Decoder) throws { value = try? Value(from: decoder) }
    }

    public struct InvitedRoom: Decodable, Sendable {
        public var invite_state: InviteState?
    }

    public struct InviteState: Decodable, Sendable {
        public var events: [StrippedEvent]?
    }

    public struct StrippedEvent: Decodable, Sendable {
        public var type: String
        public var sender: String
        public var state_key: String?
    }
}

/// A timeline or state event; `content` is read as a message or, for `m.room.member`, a membership.
public struct RoomEvent: Decodable, Sendable {
    public var type: String
    public var event_id: String
    public var sender: String
    /// When the sender's homeserver received it, in milliseconds since 1970.
    public var origin_server_ts: Int64?
    /// For state events: whom it is about (for `m.room.member`, the member).
    public var state_key: String?
    public var content: MessageContent?
    /// The content as it came, for what `content` does not read (an encrypted event's ciphertext).
    public var rawContent: JSONValue?
    /// `unsigned.transaction_id`: given only to the device that sent the event, with the transaction id it sent it with.
    public var transactionID: String?

    enum CodingKeys: String, CodingKey { case type, event_id, sender, origin_server_ts, state_key, content, unsigned }

    struct Unsigned: Decodable {
        var transaction_id: String?
    }

    public init(type: String, event_id: String, sender: String, origin_server_ts: Int64?, state_key: String? = nil, rawContent: JSONValue?) {
        self.type = type
        self.event_id = event_id
        self.sender = sender
        self.origin_server_ts = origin_server_ts
        self.state_key = state_key
        self.rawContent = rawContent
        self.content = rawContent.flatMap { try? MessageContent(json: $0) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(String.self, forKey: .type)
        event_id = try container.decode(String.self, forKey: .event_id)
        sender = try container.decode(String.self, forKey: .sender)
        origin_server_ts = try? container.decodeIfPresent(Int64.self, forKey: .origin_server_ts)
        state_key = try? container.decodeIfPresent(String.self, forKey: .state_key)
        content = try? container.decodeIfPresent(MessageContent.self, forKey: .content)
        rawContent = try? container.decodeIfPresent(JSONValue.self, forKey: .content)
        transactionID = (try? container.decodeIfPresent(Unsigned.self, forKey: .unsigned))?.transaction_id
    }

    public struct MessageContent: Decodable, Sendable {
        public var msgtype: String?
        public var body: String?
        public var relatesTo: RelatesTo?
        /// `m.room.member`: `join`, `invite`, `leave`, `ban` or `knock`.
        public var membership: String?

        enum CodingKeys: String, CodingKey {
            case msgtype, body, membership
            case relatesTo = "m.relates_to"
        }

        /// Reads a content from a JSON value (a decrypted event's).
        init(json: JSONValue) throws {
            self = try JSONDecoder().decode(MessageContent.self, from: JSONEncoder().encode(json))
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            msgtype = try? container.decodeIfPresent(String.self, forKey: .msgtype)
            body = try? container.decodeIfPresent(String.self, forKey: .body)
            relatesTo = try? container.decodeIfPresent(RelatesTo.self, forKey: .relatesTo)
            membership = try? container.decodeIfPresent(String.self, forKey: .membership)
        }
    }

    public struct RelatesTo: Decodable, Sendable {
        public var inReplyTo: InReplyTo?
        /// `m.thread` for a message in a thread (then `eventID` is the thread's first message), or another relation.
        public var relType: String?
        public var eventID: String?

        enum CodingKeys: String, CodingKey {
            case inReplyTo = "m.in_reply_to"
            case relType = "rel_type"
            case eventID = "event_id"
        }

        /// The first message of the thread this relation puts a message in, if it is `m.thread`.
        public var threadRoot: String? { relType == "m.thread" ? eventID : nil }
    }

    public struct InReplyTo: Decodable, Sendable {
        public var event_id: String?
    }
}

/// An error answer (`429 M_LIMIT_EXCEEDED` carries `retry_after_ms`).
struct ErrorBody: Decodable {
    var errcode: String?
    var error: String?
    var retry_after_ms: Int?
}

/// Synapse's admin API `override_ratelimit`: zeros lift the user's message rate limit.
struct RateLimitOverride: Codable {
    var messages_per_second: Int?
    var burst_count: Int?

    static let none = RateLimitOverride(messages_per_second: 0, burst_count: 0)
}

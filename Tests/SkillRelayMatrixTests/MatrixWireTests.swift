import AsyncHTTPClient
import Foundation
import Testing

@testable import SkillRelayMatrix

@Suite struct MatrixWireTests {
    @Test func aReplysQuotedFallbackIsDropped() {
        #expect(MatrixSyncService.stripReplyFallback("> <@bot:localhost> A colleague asks…\n> more\n\nUse kubectl drain.") == "Use kubectl drain.")
        #expect(MatrixSyncService.stripReplyFallback("plain answer\n> not a fallback") == "plain answer\n> not a fallback")
    }

    @Test func theHTMLBodyEscapesWhatPeopleTyped() {
        let message = TextMessage("<script>alert(1)</script> & \"x\"\nnext")
        #expect(message.body == "<script>alert(1)</script> & \"x\"\nnext")
        #expect(message.formatted_body == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;<br>next")
    }

    @Test func oneMalformedEventDoesNotSpoilASync() throws {
        let json = """
            {"next_batch":"s2","rooms":{"join":{"!r:localhost":{"timeline":{"events":[
              {"type":"m.room.message","event_id":"$1","sender":"@a:localhost","content":{"msgtype":"m.text","body":42}},
              {"type":"m.room.message","sender":"@a:localhost","content":{}},
              {"type":"m.room.message","event_id":"$3","sender":"@a:localhost",
               "content":{"msgtype":"m.text","body":"pass","m.relates_to":{"m.in_reply_to":{"event_id":"$q"}}}}
            ]}}}}}
            """
        let sync = try JSONDecoder().decode(SyncResponse.self, from: Data(json.utf8))
        let events = try #require(sync.rooms?.join?["!r:localhost"]?.timeline?.events)
        #expect(events.map(\.event_id) == ["$1", "$3"])
        #expect(events[0].content?.body == nil)
        #expect(events[1].content?.relatesTo?.inReplyTo?.event_id == "$q")
    }

    @Test func theSyncStreamsPresenceIsKeptWhileTheStreamIsLive() throws {
        let json = """
            {"next_batch":"s3","presence":{"events":[
              {"type":"m.presence","sender":"@a:localhost","content":{"presence":"online","currently_active":true}},
              {"type":"m.presence","sender":"@b:localhost","content":{"presence":"unavailable","last_active_ago":60000}},
              {"type":"m.presence","sender":"@c:localhost","content":{}},
              {"type":"m.presence","sender":"@a:localhost","content":{"presence":"offline"}}
            ]}}
            """
        let sync = try JSONDecoder().decode(SyncResponse.self, from: Data(json.utf8))
        // The malformed event (no presence) is skipped; the rest are kept in order.
        #expect(sync.presence?.events?.map(\.sender) == ["@a:localhost", "@b:localhost", "@a:localhost"])
        let stream = MatrixPresenceStream(staleAfter: 90)
        let start = Date(timeIntervalSince1970: 1_000_000)
        #expect(stream.presence(of: "@b:localhost", now: start) == nil)
        stream.record(sync.presence?.events ?? [], at: start)
        // The last event of a person wins.
        #expect(stream.presence(of: "@a:localhost", now: start) == .offline)
        #expect(stream.presence(of: "@b:localhost", now: start.addingTimeInterval(90)) == .away)
        #expect(stream.presence(of: "@c:localhost", now: start) == nil)
        // A stream that has not synced for longer than that says nothing; a sync without events makes it live again.
        #expect(stream.presence(of: "@b:localhost", now: start.addingTimeInterval(91)) == nil)
        stream.record([], at: start.addingTimeInterval(100))
        #expect(stream.presence(of: "@b:localhost", now: start.addingTimeInterval(100)) == .away)
    }

    @Test func pathSegmentsAreEscaped() {
        #expect(MatrixClient.escape("@alice:localhost") == "%40alice%3Alocalhost")
        #expect(MatrixClient.escape("!room/x:localhost") == "%21room%2Fx%3Alocalhost")
    }
}

@Suite struct MatrixSecretTests {
    @Test func theAccessTokenNeverAppearsInADescription() {
        let client = MatrixClient(http: .shared, homeserver: "http://127.0.0.1:8008", accessToken: "syt_very_secret")
        for text in [
            String(describing: client), String(reflecting: client), "\(client)", String(describing: Mirror(reflecting: client).children.map(\.value)),
        ] {
            #expect(!text.contains("syt_very_secret"), "\(text)")
        }
    }
}

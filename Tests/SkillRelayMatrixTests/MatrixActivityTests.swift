import Foundation
import Testing

@testable import SkillRelayMatrix

/// Who the bot saw in its rooms: where the homeserver reports no presence, this is how SkillRelay knows who is at their
/// desk.
@Suite struct MatrixActivityTests {
    @Test func messagesJoinsAndReadReceiptsCountTheBotDoesNot() throws {
        let now = Date(timeIntervalSince1970: 1_000)
        func event(_ type: String, _ sender: String, _ milliseconds: Int) -> String {
            #"{"type":"\#(type)","event_id":"$\#(sender)\#(milliseconds)","sender":"\#(sender)","origin_server_ts":\#(milliseconds),"content":{}}"#
        }
        let json = """
            {"next_batch":"s2","rooms":{"join":{
              "!a:hs":{"timeline":{"events":[\(event("m.room.message", "@ana:hs", 300_000)),\(event("m.room.message", "@ana:hs", 500_000)),
                                              \(event("m.room.message", "@bot:hs", 900_000))]},
                       "ephemeral":{"events":[{"type":"m.receipt","content":{"$x":{"m.read":{"@ana:hs":{"ts":400000},"@bot:hs":{"ts":950000}}}}}]}},
              "!b:hs":{"timeline":{"events":[\(event("m.room.member", "@ben:hs", 100_000))]},
                       "ephemeral":{"events":[{"type":"m.receipt","content":{"$y":{"m.read.private":{"@ben:hs":{"ts":700000}}}}},
                                              {"type":"m.typing","content":{"user_ids":["@cem:hs"]}}]}},
              "!c:hs":{"ephemeral":{"events":[{"type":"m.receipt","content":{"$z":{"m.read":{"@cem:hs":{"ts":5000000}, "@dee:hs":{}}}}}]}}
            }}}
            """
        let response = try JSONDecoder().decode(SyncResponse.self, from: Data(json.utf8))
        let seen = MatrixSyncService.activity(in: response, bot: "@bot:hs", now: now)
        #expect(
            seen == [
                "@ana:hs": Date(timeIntervalSince1970: 500), "@ben:hs": Date(timeIntervalSince1970: 700),
                // A receipt stamped after now (a homeserver clock ahead of ours) counts as now, as does one without a time.
                "@cem:hs": now, "@dee:hs": now,
            ])
    }
}

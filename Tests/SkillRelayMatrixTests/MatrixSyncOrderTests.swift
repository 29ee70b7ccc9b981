import Foundation
import Testing

@testable import SkillRelayMatrix

/// A sync batch lists its rooms in no particular order; answers to one question from different rooms must be handled
/// in the order the homeserver received them.
@Suite struct MatrixSyncOrderTests {
    @Test func messagesFromSeveralRoomsAreHandledInTheOrderTheyArrived() throws {
        func message(_ id: String, _ sender: String, _ timestamp: Int) -> String {
            #"{"type":"m.room.message","event_id":"\#(id)","sender":"\#(sender)","origin_server_ts":\#(timestamp),"content":{"msgtype":"m.text","body":"x"}}"#
        }
        let json = """
            {"next_batch":"s2","rooms":{"join":{
              "!a:hs":{"timeline":{"events":[\(message("$a1", "@ana:hs", 300)),\(message("$a2", "@ana:hs", 500))]}},
              "!b:hs":{"timeline":{"events":[\(message("$b1", "@ben:hs", 100)),\(message("$bot", "@bot:hs", 150))]}},
              "!c:hs":{"timeline":{"events":[\(message("$c1", "@cem:hs", 400))]}}
            }}}
            """
        let response = try JSONDecoder().decode(SyncResponse.self, from: Data(json.utf8))
        let order = MatrixSyncService.timelineInArrivalOrder(response, bot: "@bot:hs")
        #expect(order.map(\.event.event_id) == ["$b1", "$a1", "$c1", "$a2"])
        #expect(order.map(\.room) == ["!b:hs", "!a:hs", "!c:hs", "!a:hs"])
    }
}

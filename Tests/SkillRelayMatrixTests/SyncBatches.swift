import Foundation

@testable import SkillRelayMatrix

extension MatrixSyncService {
    /// Handles, as the sync loop would, one batch whose only news is `events` (JSON objects) in the timeline of joined
    /// room `room`.
    func receive(timeline events: [String], in room: String, bot: String) async throws {
        let json = #"{"next_batch":"s2","rooms":{"join":{"\#(room)":{"timeline":{"events":[\#(events.joined(separator: ","))]}}}}}"#
        try await handle(try JSONDecoder().decode(SyncResponse.self, from: Data(json.utf8)), bot: bot, actOnMessages: true)
    }
}

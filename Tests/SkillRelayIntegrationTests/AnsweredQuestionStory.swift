import Foundation
import Testing

/// The start of the stories that continue after an answer: Lena asks about Kubernetes in her room with the bot, Nikos
/// (online, tagged) answers by replying to the question in his; both rooms, and both messages as each reads them.
struct AnsweredQuestionStory {
    static let questionPrefix = "A colleague asks about Kubernetes"

    let bot: MatrixUser
    let lena: MatrixUser
    let nikos: MatrixUser
    let relay: RelayProcess
    let lenaRoom: String
    let nikosRoom: String
    /// The question in Nikos's room, and the relayed answer in Lena's.
    let question: (id: String, body: String, replyTo: String?)
    let answer: (id: String, body: String, replyTo: String?)

    /// Starts SkillRelay (at most one answer a question) and plays the story up to the answer. The caller kills `relay`.
    static func start(asking text: String, answer reply: String) async throws -> AnsweredQuestionStory {
        let url = try #require(SynapseEnvironment.url)
        let bot = try MatrixUser.register("skillrelay", homeserver: url, admin: true)
        let lena = try MatrixUser.register("lena.weber", homeserver: url)
        let nikos = try MatrixUser.register("nikos.nikolaidis", homeserver: url)
        let relay = try RelayProcess(homeserver: url, botToken: bot.token, arguments: ["--max-answers", "1"])
        try await relay.start()
        do {
            var rooms: [String: String] = [:]
            for user in [lena, nikos] {
                let room = try await user.openDirectRoom(with: bot.userID)
                rooms[user.userID] = room
                _ = try await eventually(90, "the bot to join \(user.userID)'s room") {
                    try await user.joinedMembers(room).contains(bot.userID) ? true : nil
                }
            }
            try await nikos.setPresence("online")
            _ = try await eventually(90, "\(nikos.userID) to be online to the bot") {
                try await bot.presence(of: nikos.userID) == "online" ? true : nil
            }
            let lenaRoom = rooms[lena.userID]!
            let nikosRoom = rooms[nikos.userID]!
            try await lena.say("ask k8s: \(text)", in: lenaRoom)
            let question = try await eventually(90, "the question in Nikos's room") {
                try await botMessages(nikos, in: nikosRoom, bot: bot).last { $0.body.hasPrefix(questionPrefix) }
            }
            try await nikos.say(reply, in: nikosRoom, replyingTo: question.id)
            let answer = try await eventually(90, "the answer in Lena's room") {
                try await botMessages(lena, in: lenaRoom, bot: bot).last { $0.body.hasPrefix("Answer 1 of 1") }
            }
            return AnsweredQuestionStory(
                bot: bot, lena: lena, nikos: nikos, relay: relay, lenaRoom: lenaRoom, nikosRoom: nikosRoom, question: question, answer: answer)
        } catch {
            relay.kill()
            throw error
        }
    }

    /// The bot's messages in a room: id, text and the event each replies to.
    static func botMessages(_ user: MatrixUser, in room: String, bot: MatrixUser) async throws -> [(id: String, body: String, replyTo: String?)] {
        let json = try await user.call(.GET, "/rooms/\(MatrixUser.escape(room))/messages?dir=b&limit=100")
        let chunk = json["chunk"] as? [[String: Any]] ?? []
        return chunk.reversed().compactMap { event in
            guard event["type"] as? String == "m.room.message", event["sender"] as? String == bot.userID,
                let content = event["content"] as? [String: Any], let body = content["body"] as? String
            else { return nil }
            let relation = content["m.relates_to"] as? [String: Any]
            let replyTo = (relation?["m.in_reply_to"] as? [String: Any])?["event_id"] as? String
            return (event["event_id"] as? String ?? "", body, replyTo)
        }
    }

    /// The bot's messages in Lena's room, or in Nikos's.
    func toLena() async throws -> [(id: String, body: String, replyTo: String?)] { try await Self.botMessages(lena, in: lenaRoom, bot: bot) }
    func toNikos() async throws -> [(id: String, body: String, replyTo: String?)] { try await Self.botMessages(nikos, in: nikosRoom, bot: bot) }
}
